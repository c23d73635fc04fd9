using System.Diagnostics;
using Akka.WriteBehind.Counters;
using HdrHistogram;

namespace Akka.WriteBehind.Benchmarks;

/// <summary>
/// When each key's increments became durable, for the open-loop <c>latency</c> scenario, without tracking single increments
/// in the system under test. <see cref="Systems.CountingStore"/> appends one entry per row after the store's transaction
/// committed (the store's <c>ApplyAsync</c> returned): the key, the delta and the time. Increments of one key from one
/// sender reach the key's sum in send order (Akka: one sender → one entity is FIFO; the dictionary and Orleans: the
/// same), so once the committed deltas of a key add up to <c>n</c>, the key's first <c>n</c> increments are durable:
/// increment <c>i</c>, the <c>n</c>-th of its key, became durable at the first commit that takes the key's committed total
/// to <c>n</c> or more. Its latency is that time minus its <b>intended</b> send time (open loop: a sender that fell behind
/// does not hide the wait, no coordinated omission). Cost while measuring: one list append per written row, not per increment.
/// </summary>
internal sealed class CommitLog
{
    /// <summary>The log of this round's process, set by <see cref="Round"/> before the system starts in the latency scenario; <c>null</c> otherwise.</summary>
    public static CommitLog? Current { get; set; }

    private readonly Lock _gate = new();
    private readonly List<(string Key, long Delta, long Timestamp)> _entries = new(1 << 16);

    public void Record(IReadOnlyList<CounterWrite> writes)
    {
        var now = Stopwatch.GetTimestamp();
        lock (_gate)
        {
            foreach (var w in writes)
                _entries.Add((w.Key, w.Delta, now));
        }
    }

    public int Count
    {
        get
        {
            lock (_gate)
                return _entries.Count;
        }
    }

    /// <summary>
    /// Latency of every increment (microseconds, from its intended send time to the commit that made it durable).
    /// Throws when a key's committed total differs from its sent increments (an increment lost or applied twice).
    /// </summary>
    /// <param name="keys">Key names.</param>
    /// <param name="sequence">Key index of each increment; only the first <paramref name="sent"/> were sent.</param>
    /// <param name="sent">Increments sent.</param>
    /// <param name="startTimestamp"><see cref="Stopwatch.GetTimestamp"/> at the start of the run (intended time 0).</param>
    /// <param name="intendedSeconds">Intended send time of increment i, seconds from the start.</param>
    public LongHistogram Latencies(string[] keys, int[] sequence, long sent, long startTimestamp, Func<long, double> intendedSeconds)
    {
        var index = new Dictionary<string, int>(keys.Length, StringComparer.Ordinal);
        for (var k = 0; k < keys.Length; k++)
            index[keys[k]] = k;

        // per key: commits in time order as (cumulative committed total, timestamp)
        var commits = new List<(long Total, long Timestamp)>?[keys.Length];
        var totals = new long[keys.Length];
        lock (_gate)
        {
            foreach (var (key, delta, timestamp) in _entries.OrderBy(e => e.Timestamp))
            {
                if (!index.TryGetValue(key, out var k))
                    continue; // warm-up keys
                totals[k] += delta;
                (commits[k] ??= []).Add((totals[k], timestamp));
            }
        }

        var histogram = new LongHistogram(TimeSpan.FromMinutes(10).Ticks / 10, 3); // microseconds, up to 10 min
        var ordinal = new long[keys.Length];
        var cursor = new int[keys.Length];
        for (long i = 0; i < sent; i++)
        {
            var k = sequence[i];
            var n = ++ordinal[k];
            var list = commits[k] ?? throw new InvalidOperationException($"key {keys[k]}: increment {n} sent, nothing committed");
            while (cursor[k] < list.Count && list[cursor[k]].Total < n)
                cursor[k]++;
            if (cursor[k] == list.Count)
                throw new InvalidOperationException($"key {keys[k]}: increment {n} sent, only {totals[k]} committed");
            var durableSeconds = Stopwatch.GetElapsedTime(startTimestamp, list[cursor[k]].Timestamp).TotalSeconds;
            var micros = (long)Math.Round((durableSeconds - intendedSeconds(i)) * 1e6);
            histogram.RecordValue(Math.Clamp(micros, 1, histogram.HighestTrackableValue));
        }

        for (var k = 0; k < keys.Length; k++)
        {
            if (totals[k] != ordinal[k])
                throw new InvalidOperationException($"key {keys[k]}: {ordinal[k]} increments sent, {totals[k]} committed (lost or applied twice)");
        }

        return histogram;
    }
}
