using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Akka.WriteBehind.Internal;

namespace Akka.WriteBehind.Refresh;

/// <summary>
/// The refresh cache's instruments on the <c>Akka.WriteBehind</c> meter. Every measurement carries the tag
/// <c>refresh_set</c> (the region's type name); the gauge is per node (one actor system). Units follow OpenTelemetry
/// conventions.
/// </summary>
/// <remarks>
/// <list type="table">
/// <item><term>akka.write_behind.refresh.items</term><description>gauge, {item}: items refreshed on this node (tracked by its supervisor).</description></item>
/// <item><term>akka.write_behind.refresh.syncs</term><description>counter, {item}: item syncs completed, tag <c>outcome</c> = unchanged | updated | deleted | failed.</description></item>
/// <item><term>akka.write_behind.refresh.sync_errors</term><description>counter, {item}: item syncs that failed (the item is retried next cycle).</description></item>
/// <item><term>akka.write_behind.refresh.sync_latency</term><description>histogram, s: duration of one syncer call (a batch).</description></item>
/// <item><term>akka.write_behind.refresh.cycle_duration</term><description>histogram, s: from a cycle's start until every item of it has a result.</description></item>
/// <item><term>akka.write_behind.refresh.skipped_cycles</term><description>counter, {cycle}: cycles not started because the previous one was still running.</description></item>
/// <item><term>akka.write_behind.refresh.evictions</term><description>counter, {item}: items evicted at max-items-per-node.</description></item>
/// </list>
/// </remarks>
internal static class RefreshMetrics
{
    private const string Prefix = "akka.write_behind.refresh.";
    private static readonly ConcurrentDictionary<RefreshLedger, byte> Ledgers = new();

    internal static readonly Counter<long> Syncs = WriteBehindMeter.Meter.CreateCounter<long>(
        Prefix + "syncs", "{item}", "Item syncs completed, by outcome.");

    internal static readonly Counter<long> SyncErrors = WriteBehindMeter.Meter.CreateCounter<long>(
        Prefix + "sync_errors", "{item}", "Item syncs that failed; each item is retried next cycle.");

    internal static readonly Histogram<double> SyncLatency = WriteBehindMeter.Meter.CreateHistogram<double>(
        Prefix + "sync_latency", "s", "Duration of one syncer call (a batch of items).");

    internal static readonly Histogram<double> CycleDuration = WriteBehindMeter.Meter.CreateHistogram<double>(
        Prefix + "cycle_duration", "s", "Duration of a refresh cycle, until every item of it has a result.");

    internal static readonly Counter<long> SkippedCycles = WriteBehindMeter.Meter.CreateCounter<long>(
        Prefix + "skipped_cycles", "{cycle}", "Refresh cycles skipped because the previous one was still running.");

    internal static readonly Counter<long> Evictions = WriteBehindMeter.Meter.CreateCounter<long>(
        Prefix + "evictions", "{item}", "Items evicted at max-items-per-node (least recently used).");

    static RefreshMetrics()
    {
        WriteBehindMeter.Meter.CreateObservableGauge(Prefix + "items",
            () => Ledgers.Keys.Select(l => new Measurement<long>(l.Tracked, l.Tag)), "{item}",
            "Items refreshed on this node.");
    }

    internal static void Register(RefreshLedger ledger) => Ledgers.TryAdd(ledger, 0);

    internal static void Unregister(RefreshLedger ledger) => Ledgers.TryRemove(ledger, out _);
}

/// <summary>INTERNAL API: node-wide bookkeeping of one refresh set for the gauge; the supervisor writes it, the meter reads it.</summary>
internal sealed class RefreshLedger
{
    private long _tracked;

    public RefreshLedger(string refreshSet) => Tag = new KeyValuePair<string, object?>("refresh_set", refreshSet);

    public KeyValuePair<string, object?> Tag { get; }

    public long Tracked => Interlocked.Read(ref _tracked);

    public void TrackedAre(long count) => Interlocked.Exchange(ref _tracked, count);
}
