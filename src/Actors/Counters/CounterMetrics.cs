using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Akka.WriteBehind.Internal;

namespace Akka.WriteBehind.Counters;

/// <summary>
/// The counters' instruments on the <c>Akka.WriteBehind</c> meter. Every measurement carries the tag <c>counter_set</c> (the
/// counter set's type name); gauges are per node (one actor system). Units follow OpenTelemetry conventions.
/// </summary>
/// <remarks>
/// <list type="table">
/// <item><term>akka.write_behind.counters.increments</term><description>counter, {increment}: increments accepted.</description></item>
/// <item><term>akka.write_behind.counters.refusals</term><description>counter, {command}: commands refused, tag <c>reason</c> (the <see cref="ErrorCode"/>).</description></item>
/// <item><term>akka.write_behind.counters.flushes</term><description>counter, {flush}: writes confirmed by the store (one per key and flush).</description></item>
/// <item><term>akka.write_behind.counters.flush_failures</term><description>counter, {flush}: writes that failed or timed out (each is retried).</description></item>
/// <item><term>akka.write_behind.counters.flush_retries</term><description>counter, {flush}: writes sent again after a failure or timeout.</description></item>
/// <item><term>akka.write_behind.counters.flush_duration</term><description>histogram, s: flush latency, from a write's first attempt to its confirmation by the store (retries included).</description></item>
/// <item><term>akka.write_behind.counters.batches</term><description>counter, {batch}: store transactions, tag <c>outcome</c> = ok | failed.</description></item>
/// <item><term>akka.write_behind.counters.rows_written</term><description>counter, {row}: rows in committed store transactions.</description></item>
/// <item><term>akka.write_behind.counters.batch_duration</term><description>histogram, s: duration of a store transaction.</description></item>
/// <item><term>akka.write_behind.counters.pending_keys</term><description>gauge, {key}: keys on this node holding increments not yet confirmed stored.</description></item>
/// <item><term>akka.write_behind.counters.pending_increments</term><description>gauge, {increment}: increments on this node not yet confirmed stored (after a journal recovery: the journal events replayed).</description></item>
/// <item><term>akka.write_behind.counters.oldest_unflushed_age</term><description>gauge, s: age of the oldest increment on this node not yet confirmed stored (0 when none): how far behind the database is.</description></item>
/// <item><term>akka.write_behind.counters.live_entities</term><description>gauge, {entity}: counter entities alive on this node (bounded by <c>max-live-entities</c>).</description></item>
/// <item><term>akka.write_behind.counters.evictions</term><description>counter, {entity}: entities passivated because the node held <c>max-live-entities</c>.</description></item>
/// <item><term>akka.write_behind.counters.journal_persists_in_flight</term><description>gauge, {persist}: journal writes in flight on this node (journal durability).</description></item>
/// </list>
/// </remarks>
internal static class CounterMetrics
{
    private const string Prefix = "akka.write_behind.counters.";
    private static readonly ConcurrentDictionary<CounterLedger, byte> Ledgers = new();

    internal static readonly Counter<long> Increments = WriteBehindMeter.Meter.CreateCounter<long>(
        Prefix + "increments", "{increment}", "Increments accepted.");

    internal static readonly Counter<long> Refusals = WriteBehindMeter.Meter.CreateCounter<long>(
        Prefix + "refusals", "{command}", "Counter commands refused, by reason.");

    internal static readonly Counter<long> Flushes = WriteBehindMeter.Meter.CreateCounter<long>(
        Prefix + "flushes", "{flush}", "Counter writes confirmed by the store.");

    internal static readonly Counter<long> FlushFailures = WriteBehindMeter.Meter.CreateCounter<long>(
        Prefix + "flush_failures", "{flush}", "Counter writes that failed or timed out; each is retried.");

    internal static readonly Counter<long> FlushRetries = WriteBehindMeter.Meter.CreateCounter<long>(
        Prefix + "flush_retries", "{flush}", "Counter writes sent again after a failure or timeout.");

    internal static readonly Histogram<double> FlushDuration = WriteBehindMeter.Meter.CreateHistogram<double>(
        Prefix + "flush_duration", "s", "Flush latency: from a counter write's first attempt to its confirmation by the store.");

    internal static readonly Counter<long> Batches = WriteBehindMeter.Meter.CreateCounter<long>(
        Prefix + "batches", "{batch}", "Store transactions of the counter store writer, by outcome.");

    internal static readonly Counter<long> RowsWritten = WriteBehindMeter.Meter.CreateCounter<long>(
        Prefix + "rows_written", "{row}", "Rows in committed counter store transactions.");

    internal static readonly Histogram<double> BatchDuration = WriteBehindMeter.Meter.CreateHistogram<double>(
        Prefix + "batch_duration", "s", "Duration of a counter store transaction.");

    static CounterMetrics()
    {
        WriteBehindMeter.Meter.CreateObservableGauge(Prefix + "pending_keys",
            () => Ledgers.Keys.Select(l => new Measurement<long>(l.PendingKeys, l.Tag)), "{key}",
            "Keys on this node holding increments not yet confirmed stored.");
        WriteBehindMeter.Meter.CreateObservableGauge(Prefix + "pending_increments",
            () => Ledgers.Keys.Select(l => new Measurement<long>(l.PendingIncrements, l.Tag)), "{increment}",
            "Increments on this node not yet confirmed stored.");
        WriteBehindMeter.Meter.CreateObservableGauge(Prefix + "oldest_unflushed_age",
            () => Ledgers.Keys.Select(l => new Measurement<double>(l.OldestUnflushedAge.TotalSeconds, l.Tag)), "s",
            "Age of the oldest increment on this node not yet confirmed stored.");
        WriteBehindMeter.Meter.CreateObservableGauge(Prefix + "journal_persists_in_flight",
            () => Ledgers.Keys.Select(l => new Measurement<long>(l.PersistsInFlight, l.Tag)), "{persist}",
            "Journal writes in flight on this node.");
        WriteBehindMeter.Meter.CreateObservableGauge(Prefix + "live_entities",
            () => Ledgers.Keys.Select(l => new Measurement<long>(l.Live.Live, l.Tag)), "{entity}",
            "Counter entities alive on this node (bounded by max-live-entities).");
        WriteBehindMeter.Meter.CreateObservableCounter(Prefix + "evictions",
            () => Ledgers.Keys.Select(l => new Measurement<long>(l.Live.Evictions, l.Tag)), "{entity}",
            "Counter entities passivated because the node held max-live-entities.");
    }

    internal static void Register(CounterLedger ledger) => Ledgers.TryAdd(ledger, 0);

    internal static void Unregister(CounterLedger ledger) => Ledgers.TryRemove(ledger, out _);
}

/// <summary>
/// INTERNAL API
/// <para>
/// Node-wide bookkeeping of one counter set for the gauges: which keys hold unconfirmed increments since when, and journal
/// persists in flight. Entities and the permit actor update it (thread-safe); the meter reads it when observed.
/// </para>
/// </summary>
internal sealed class CounterLedger
{
    // key -> since when (Stopwatch timestamp) and how many increments; the entry is updated in place (no allocation per increment)
    private readonly ConcurrentDictionary<string, Entry> _dirty = new(StringComparer.Ordinal);
    private long _persistsInFlight;
    private long _routedIncrements;
    private long _failureWarnings; // counters that warned of a failure since a store or journal call last succeeded
    private readonly ConcurrentDictionary<Akka.Actor.IActorRef, byte> _logs = new(); // the set's shard logs alive on this node

    public CounterLedger(string counterSet) => Tag = new KeyValuePair<string, object?>("counter_set", counterSet);

    public KeyValuePair<string, object?> Tag { get; }

    public long PendingKeys => _dirty.Count;

    /// <summary>The keys holding increments not confirmed stored, as of now.</summary>
    public ICollection<string> DirtyKeys => _dirty.Keys;

    public long PendingIncrements
    {
        get
        {
            long sum = 0;
            foreach (var entry in _dirty.Values)
                sum += Volatile.Read(ref entry.Increments) + (Volatile.Read(ref entry.Inbox)?.Increments ?? 0);
            return sum;
        }
    }

    public long PersistsInFlight => Interlocked.Read(ref _persistsInFlight);

    /// <summary>The set's live entities on this node and their least-recently-used bound.</summary>
    public CounterLiveEntities Live { get; init; } = new(0);

    public TimeSpan OldestUnflushedAge
    {
        get
        {
            var oldest = long.MaxValue;
            foreach (var entry in _dirty.Values)
                oldest = Math.Min(oldest, Volatile.Read(ref entry.Since));
            return oldest == long.MaxValue ? TimeSpan.Zero : Stopwatch.GetElapsedTime(oldest);
        }
    }

    /// <summary>
    /// The oldest increment of <paramref name="key"/> not yet confirmed stored arrived at <paramref name="since"/> (a
    /// <see cref="Stopwatch"/> timestamp); the key holds <paramref name="increments"/> such increments.
    /// </summary>
    /// <param name="key">The key.</param>
    /// <param name="since">A <see cref="Stopwatch"/> timestamp.</param>
    /// <param name="increments">Increments not confirmed stored.</param>
    /// <param name="entry">
    /// The key's entry as the entity last had it from here (<c>null</c>: none); set to it. The entity keeps it until
    /// <see cref="Clean"/>, so that an increment costs two writes, not a dictionary lookup.
    /// </param>
    /// <param name="inbox">The inbox of the key's route, if it has had one: its increments are counted with the key's.</param>
    public void Dirty(string key, long since, long increments, ref Entry? entry, CounterRouteInbox? inbox = null)
    {
        // only the key's entity writes its entry (one at a time), and only it removes it (Clean), so the entity's own
        // reference stays the one in the dictionary; readers may see the two fields from different updates
        // a new entry is complete before it is visible: a reader never sees Since = 0
        entry ??= _dirty.GetOrAdd(key, static (_, state) => new Entry { Since = state.since, Increments = state.increments }, (since, increments));
        Volatile.Write(ref entry.Increments, increments);
        Volatile.Write(ref entry.Since, since);
        if (inbox is not null)
            Volatile.Write(ref entry.Inbox, inbox);
    }

    /// <summary>Everything the key held is confirmed stored (or the entity stopped); the entity drops its <paramref name="entry"/>.</summary>
    public void Clean(string key, ref Entry? entry)
    {
        entry = null;
        _dirty.TryRemove(key, out _);
    }

    /// <summary>
    /// The set's shard logs alive on this node. A flush-all asks each which keys have events not known stored: a log
    /// acknowledges a routed increment, or replays one after a restart, before the key's counter has taken it.
    /// </summary>
    public ICollection<Akka.Actor.IActorRef> Logs => _logs.Keys;

    /// <summary>A shard log started on this node.</summary>
    public void LogStarted(Akka.Actor.IActorRef log) => _logs.TryAdd(log, 0);

    /// <summary>A shard log stopped.</summary>
    public void LogStopped(Akka.Actor.IActorRef log) => _logs.TryRemove(log, out _);

    /// <summary>The counters that warn of their failed writes, loads or journal writes in one outage; the others log at debug level.</summary>
    public const int FailureWarningsPerOutage = 10;

    /// <summary>
    /// A counter's first failure of a run (a write, a load or a journal write of its own): whether it warns. An outage fails
    /// every counter with increments not stored at once, one log line each; so the first
    /// <see cref="FailureWarningsPerOutage"/> warn, naming their keys, and the others log at debug level until the store or
    /// the journal answers again (<see cref="StoreAnswered"/>). <paramref name="last"/> is set for the last that warns.
    /// </summary>
    public bool MayWarnOfFailure(out bool last)
    {
        var warned = Interlocked.Increment(ref _failureWarnings);
        last = warned == FailureWarningsPerOutage;
        return warned <= FailureWarningsPerOutage;
    }

    /// <summary>A store or journal call succeeded: the counters of the next outage warn again.</summary>
    public void StoreAnswered()
    {
        if (Volatile.Read(ref _failureWarnings) != 0) // a read, not a write, on every successful call
            Interlocked.Exchange(ref _failureWarnings, 0);
    }

    /// <summary>
    /// Failed journal calls of the set's shard logs and journal writer on this node since the journal last answered: in an
    /// outage every log fails alike, and again each time a counter starts it, so only the first failure is logged in full.
    /// </summary>
    public Internal.FailureStreak JournalFailures { get; } = new();

    /// <summary>A shard log started (+1) or finished (-1) a persist.</summary>
    public void PersistsInFlightChanged(int by) => Interlocked.Add(ref _persistsInFlight, by);

    /// <summary>Increments this node's ingest stage had acknowledged through a route of a shard log (specs read it).</summary>
    public long RoutedIncrements => Interlocked.Read(ref _routedIncrements);

    /// <summary>The ingest stage had <paramref name="increments"/> routed increments acknowledged.</summary>
    public void Routed(long increments) => Interlocked.Add(ref _routedIncrements, increments);

    /// <summary>A key's age and count of increments not confirmed stored; written by its entity only.</summary>
    public sealed class Entry
    {
        public long Since;
        public long Increments;
        public CounterRouteInbox? Inbox; // routed increments not taken by the entity yet
    }
}
