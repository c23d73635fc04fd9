using HdrHistogram;

namespace Akka.WriteBehind.Benchmarks;

/// <summary>
/// batches: each operation's latency, from its intended send time (<see cref="Pacer.Intended"/>) to its answer. One slot per
/// operation, written once by whichever thread completes it (no lock), summarised after the round.
/// </summary>
internal sealed class LatencyLog(int operations)
{
    private readonly long[] _micros = new long[operations];
    private long _count;

    public void Record(long i, TimeSpan latency)
    {
        _micros[i] = Math.Max(1, (long)latency.TotalMicroseconds);
        Interlocked.Increment(ref _count);
    }

    /// <summary>The recorded latencies (operations never sent are left out).</summary>
    public LongHistogram Histogram()
    {
        var h = new LongHistogram(TimeSpan.FromMinutes(10).Ticks / 10, 3);
        foreach (var micros in _micros)
            if (micros > 0)
                h.RecordValue(micros);
        return h;
    }
}
