using System.Diagnostics;

namespace Akka.WriteBehind.Benchmarks;

/// <summary>
/// Open-loop pacing: increment i is held back until its intended send time from the <see cref="RatePlan"/>. A sender that
/// falls behind sends at once (it never skips), so lateness shows as a lower ingest rate, not as omitted samples.
/// </summary>
internal sealed class Pacer(RatePlan? plan, Stopwatch clock)
{
    public static Pacer Closed(Stopwatch clock) => new(null, clock);

    public bool IsOpenLoop => plan is not null;

    public TimeSpan Elapsed => clock.Elapsed;

    /// <summary>Index whose send time is recorded in <see cref="Marked"/> (idle-keys: the first increment of the second pass); -1 = none.</summary>
    public long MarkAt { get; init; } = -1;

    /// <summary>When increment <see cref="MarkAt"/> was about to be sent.</summary>
    public TimeSpan? Marked { get; private set; }

    /// <summary>
    /// When increment <paramref name="i"/> was meant to be sent, on this pacer's clock: its intended time (open loop), or now
    /// (closed loop: call it when the increment is sent). Latencies are measured from here, so a late sender is not hidden.
    /// </summary>
    public TimeSpan Intended(long i) => plan is null ? clock.Elapsed : TimeSpan.FromSeconds(plan.IntendedSeconds(i));

    public void Wait(long i)
    {
        if (i == MarkAt)
            Marked = clock.Elapsed;
        if (plan is null)
            return;
        var due = plan.IntendedSeconds(i);
        // sleep while more than a millisecond early; up to 1 ms early is sent at once (no spinning: CPU per increment is measured)
        while (due - clock.Elapsed.TotalSeconds > 0.001)
            Thread.Sleep(1);
    }
}
