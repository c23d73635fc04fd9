using System.Diagnostics;

namespace Akka.WriteBehind.Counters;

/// <summary>
/// INTERNAL API
/// <para>
/// A counter entity's sums: what its row holds (<see cref="Stored"/>), the delta of the write not confirmed yet
/// (<see cref="InFlight"/>) and the delta accepted since (<see cref="Pending"/>), with the overflow check an increment
/// passes before it is accepted and the age and count of what is not stored, for the node's gauges. Pure bookkeeping: the
/// entity decides when to write; this class only keeps the numbers consistent.
/// </para>
/// </summary>
internal sealed class CounterSums
{
    /// <summary>The row's value as of the last confirmed write (or the load).</summary>
    public long Stored { get; private set; }

    /// <summary>The delta of the write not confirmed yet (0 when none).</summary>
    public long InFlight { get; private set; }

    /// <summary>Accepted (journal durability: journaled), not yet part of a write.</summary>
    public long Pending { get; private set; }

    /// <summary><see cref="Stopwatch"/> timestamp of the oldest pending increment (0: none).</summary>
    public long PendingSince { get; private set; }

    /// <summary>Increments (after a recovery: journal events) in <see cref="Pending"/> and <see cref="InFlight"/>, for the gauge.</summary>
    public long UnstoredCount => _pendingCount + _inFlightCount;

    /// <summary>What a read adds to <see cref="Stored"/>: the write in flight and the pending delta.</summary>
    public long Unstored => InFlight + Pending;

    private long _pendingCount;
    private long _inFlightCount;
    private long _inFlightSince;

    /// <summary>The row as loaded.</summary>
    public void Loaded(long stored) => Stored = stored;

    /// <summary>
    /// Whether <paramref name="delta"/> can be accepted: the pending sum (with <paramref name="unjournaled"/>, accepted but
    /// held for the next persist), the persist group's sum (<paramref name="groupSum"/>) and the counter's total all stay
    /// within 64 bits. <paramref name="group"/> is the group's sum with the delta.
    /// </summary>
    public bool Fits(long delta, Int128 unjournaled, long groupSum, out long group)
    {
        var pending = (Int128)Pending + unjournaled + delta;
        var grouped = (Int128)groupSum + delta;
        var total = (Int128)Stored + InFlight + pending;
        var fits = FitsInt64(pending) && FitsInt64(grouped) && FitsInt64(total);
        group = fits ? (long)grouped : 0;
        return fits;
    }

    /// <summary>The counter's total with <paramref name="unjournaled"/>, for an overflow's message.</summary>
    public Int128 Total(Int128 unjournaled) => (Int128)Stored + InFlight + Pending + unjournaled;

    /// <summary>Adds an accepted delta of <paramref name="increments"/> increments to the pending sum.</summary>
    /// <param name="delta">The delta.</param>
    /// <param name="increments">How many increments it sums.</param>
    /// <param name="since"><see cref="Stopwatch"/> timestamp of its oldest increment (0: now).</param>
    /// <exception cref="OverflowException">The sum leaves 64 bits (<see cref="Fits"/> was not asked).</exception>
    public void Add(long delta, int increments = 1, long since = 0)
    {
        Pending = checked(Pending + delta);
        _pendingCount = Pending == 0 ? 0 : _pendingCount + increments; // netted out: nothing left to store
        if (Pending == 0)
            PendingSince = 0; // netted out: nothing to write
        else if (PendingSince == 0)
            PendingSince = since != 0 ? since : Stopwatch.GetTimestamp();
        else if (since != 0 && since < PendingSince)
            PendingSince = since;
    }

    /// <summary>The pending delta becomes the write in flight.</summary>
    public void BeginWrite()
    {
        InFlight = Pending;
        _inFlightCount = _pendingCount;
        _inFlightSince = PendingSince;
        Pending = 0;
        _pendingCount = 0;
        PendingSince = 0;
    }

    /// <summary>The write in flight is stored: the row now holds <paramref name="stored"/>.</summary>
    public void Written(long stored)
    {
        Stored = stored;
        InFlight = 0;
        _inFlightCount = 0;
    }

    /// <summary>Since when the counter holds increments not confirmed stored (0: none): the write's, else the pending delta's.</summary>
    public long OldestUnstored(bool writing) => writing ? _inFlightSince : Pending != 0 ? PendingSince : 0;

    private static bool FitsInt64(Int128 value) => value >= long.MinValue && value <= long.MaxValue;
}
