namespace Akka.WriteBehind.Counters;

/// <summary>
/// INTERNAL API
/// <para>
/// Where a shard log leaves the persisted deltas routed to one counter, so that the counter hears of them with one message
/// per fill instead of one per event: the log adds each event's delta for the key, and tells the counter
/// (<see cref="RoutedInboxFilled"/>) only when the inbox was empty; the counter takes everything in it before each message
/// it handles. One log adds, one counter takes; both run on the same node (a route never crosses nodes).
/// </para>
/// <para>
/// The sums cannot overflow: a route's bound (<see cref="ShardLogRoutes"/>) keeps the magnitudes of every delta taken
/// through it within 2^62.
/// </para>
/// </summary>
internal sealed class CounterRouteInbox
{
    private readonly object _gate = new();
    private long _seq;
    private long _delta;
    private long _increments;
    private long _filledAt; // Stopwatch timestamp of the first add since the last take
    private bool _filled; // written under the gate; read without it as a hint that there may be something to take

    /// <summary>Increments added and not taken yet, for the node's gauge (read without the gate: a gauge may be a moment old).</summary>
    public long Increments => Volatile.Read(ref _increments);

    /// <summary>Adds the delta of <paramref name="increments"/> increments persisted in event <paramref name="seq"/>.</summary>
    /// <returns>Whether the inbox was empty (the counter is to be told).</returns>
    public bool Add(long seq, long delta, long increments)
    {
        lock (_gate)
        {
            _seq = Math.Max(_seq, seq);
            _delta += delta;
            _increments += increments;
            if (_filled)
                return false;
            _filledAt = System.Diagnostics.Stopwatch.GetTimestamp();
            Volatile.Write(ref _filled, true);
            return true;
        }
    }

    /// <summary>Takes everything added since the last take, as one delta in the newest event it came from.</summary>
    /// <returns>Whether there was anything.</returns>
    public bool TryTake(out RoutedDeltaJournaled taken)
    {
        taken = null!;
        if (!Volatile.Read(ref _filled))
            return false;
        lock (_gate)
        {
            if (!_filled)
                return false;
            taken = new RoutedDeltaJournaled(_seq, _delta, _increments) { Since = _filledAt, Counted = true };
            (_delta, _increments, _filled) = (0, 0, false);
            return true;
        }
    }
}
