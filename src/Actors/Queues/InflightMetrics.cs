using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Akka.WriteBehind.Internal;

namespace Akka.WriteBehind.Queues;

/// <summary>
/// The in-flight control instruments on the <c>Akka.WriteBehind</c> meter. Every measurement carries the tag <c>queue</c>
/// (the counter set's or batch resource type's name); gauges are per node.
/// </summary>
/// <remarks>
/// <list type="table">
/// <item><term>akka.write_behind.inflight.saturations</term><description>counter, {operation}: operations refused by a bounded queue (<see cref="QueueSaturated"/>), tag <c>limit</c> = width | depth | total.</description></item>
/// <item><term>akka.write_behind.inflight.active_keys</term><description>gauge, {key}: keys with queued operations on this node (the depth).</description></item>
/// <item><term>akka.write_behind.inflight.queued_operations</term><description>gauge, {operation}: operations queued on this node.</description></item>
/// </list>
/// </remarks>
internal static class InflightMetrics
{
    private const string Prefix = "akka.write_behind.inflight.";
    private static readonly ConcurrentDictionary<QueueLedger, byte> Ledgers = new();

    internal static readonly Counter<long> Saturations = WriteBehindMeter.Meter.CreateCounter<long>(
        Prefix + "saturations", "{operation}", "Operations refused by a bounded queue, by limit (width, depth, total).");

    static InflightMetrics()
    {
        WriteBehindMeter.Meter.CreateObservableGauge(Prefix + "active_keys",
            () => Ledgers.Keys.Select(l => new Measurement<long>(l.ActiveKeys, l.Tag)), "{key}",
            "Keys with queued operations on this node.");
        WriteBehindMeter.Meter.CreateObservableGauge(Prefix + "queued_operations",
            () => Ledgers.Keys.Select(l => new Measurement<long>(l.Queued, l.Tag)), "{operation}",
            "Operations queued on this node.");
    }

    internal static void Register(QueueLedger ledger) => Ledgers.TryAdd(ledger, 0);

    internal static void Unregister(QueueLedger ledger) => Ledgers.TryRemove(ledger, out _);
}

/// <summary>
/// INTERNAL API
/// <para>
/// Node-wide bookkeeping of one bounded queue (a counter set's ingest stage, or a batch resource type's entities on this
/// node): the current depth (keys with queued operations) and size, their peaks, and the saturation count by limit. For the
/// depth of batch entities it is also the bound itself: <see cref="TryEnterKey"/> admits a key while fewer than
/// <c>max-active-keys</c> keys hold queued operations. Thread-safe; the meter reads it when observed.
/// </para>
/// </summary>
internal sealed class QueueLedger
{
    private long _activeKeys;
    private long _queued;
    private long _peakActiveKeys;
    private long _peakWidth;
    private long _peakQueued;
    private long _widthSaturations;
    private long _depthSaturations;
    private long _totalSaturations;

    public QueueLedger(string queue, int maxActiveKeys)
    {
        Queue = queue;
        MaxActiveKeys = maxActiveKeys;
        Tag = new KeyValuePair<string, object?>("queue", queue);
    }

    public string Queue { get; }

    public int MaxActiveKeys { get; }

    public KeyValuePair<string, object?> Tag { get; }

    public long ActiveKeys => Interlocked.Read(ref _activeKeys);

    public long Queued => Interlocked.Read(ref _queued);

    /// <summary>Most keys with queued operations seen at once.</summary>
    public long PeakActiveKeys => Interlocked.Read(ref _peakActiveKeys);

    /// <summary>Most operations seen queued for one key.</summary>
    public long PeakWidth => Interlocked.Read(ref _peakWidth);

    /// <summary>Most operations seen queued at once.</summary>
    public long PeakQueued => Interlocked.Read(ref _peakQueued);

    public long Saturations(QueueLimit limit) => limit switch
    {
        QueueLimit.Width => Interlocked.Read(ref _widthSaturations),
        QueueLimit.Depth => Interlocked.Read(ref _depthSaturations),
        _ => Interlocked.Read(ref _totalSaturations),
    };

    /// <summary>Admits a key into the depth: <c>false</c> (and the current depth) when <see cref="MaxActiveKeys"/> keys are active.</summary>
    public bool TryEnterKey(out int depth)
    {
        while (true)
        {
            var current = Interlocked.Read(ref _activeKeys);
            if (current >= MaxActiveKeys)
            {
                depth = (int)current;
                return false;
            }

            if (Interlocked.CompareExchange(ref _activeKeys, current + 1, current) == current)
            {
                Peak(ref _peakActiveKeys, current + 1);
                depth = (int)current + 1;
                return true;
            }
        }
    }

    /// <summary>A key admitted by <see cref="TryEnterKey"/> has no queued operations any more.</summary>
    public void LeaveKey() => Interlocked.Decrement(ref _activeKeys);

    /// <summary>The ingest stage's own depth (it bounds it itself): the current number of keys with queued operations.</summary>
    public void ActiveKeysAre(int keys)
    {
        Interlocked.Exchange(ref _activeKeys, keys);
        Peak(ref _peakActiveKeys, keys);
    }

    /// <summary><paramref name="delta"/> operations were queued (positive) or taken (negative).</summary>
    public void QueuedChanged(int delta)
    {
        var now = Interlocked.Add(ref _queued, delta);
        if (delta > 0)
            Peak(ref _peakQueued, now);
    }

    /// <summary>A key's queue now holds <paramref name="width"/> operations.</summary>
    public void WidthIs(int width) => Peak(ref _peakWidth, width);

    /// <summary>Counts a refusal (for <see cref="Saturations"/> and the meter) and returns its description.</summary>
    public QueueSaturated Saturated(string key, QueueLimit limit, int size, int max)
    {
        switch (limit)
        {
            case QueueLimit.Width:
                Interlocked.Increment(ref _widthSaturations);
                break;
            case QueueLimit.Depth:
                Interlocked.Increment(ref _depthSaturations);
                break;
            default:
                Interlocked.Increment(ref _totalSaturations);
                break;
        }

        InflightMetrics.Saturations.Add(1, Tag, new KeyValuePair<string, object?>("limit", limit.ToString().ToLowerInvariant()));
        return new QueueSaturated(Queue, key, limit, size, max);
    }

    private static void Peak(ref long peak, long value)
    {
        var seen = Interlocked.Read(ref peak);
        while (value > seen)
        {
            var previous = Interlocked.CompareExchange(ref peak, value, seen);
            if (previous == seen)
                return;
            seen = previous;
        }
    }
}
