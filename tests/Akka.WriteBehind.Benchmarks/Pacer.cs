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

    public void Wait(long i)
    {
        if (plan is null)
            return;
        var due = plan.IntendedSeconds(i);
        // sleep while more than a millisecond early; up to 1 ms early is sent at once (no spinning: CPU per increment is measured)
        while (due - clock.Elapsed.TotalSeconds > 0.001)
            Thread.Sleep(1);
    }
}
