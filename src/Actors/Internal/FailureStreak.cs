using System.Diagnostics;
using Akka.Event;

namespace Akka.WriteBehind.Internal;

/// <summary>
/// INTERNAL API
/// <para>
/// Consecutive failures of one kind of store call, so that an outage is logged once with its cause and once when it ends,
/// not once per call: a 15 s PostgreSQL outage under load otherwise wrote thousands of stack traces (about 18 MB), still
/// hundreds a second as the node came back. Thread-safe: the calls it counts may run concurrently.
/// </para>
/// </summary>
internal sealed class FailureStreak
{
    private long _failures;
    private long _since; // Stopwatch timestamp of the streak's first failure

    /// <summary>Failures since the last success.</summary>
    public long Failures => Interlocked.Read(ref _failures);

    /// <summary>Counts a failure; <c>true</c> when it is the first since the last success (the one to log in full).</summary>
    public bool Failed()
    {
        if (Interlocked.Increment(ref _failures) != 1)
            return false;
        Interlocked.Exchange(ref _since, Stopwatch.GetTimestamp());
        return true;
    }

    /// <summary>
    /// A call succeeded. Returns how many failures it ended (0: none, the common case, which costs one read) and how long
    /// they lasted, from the first.
    /// </summary>
    public long Succeeded(out TimeSpan lasted)
    {
        lasted = TimeSpan.Zero;
        if (Interlocked.Read(ref _failures) == 0)
            return 0;
        var ended = Interlocked.Exchange(ref _failures, 0);
        if (ended > 0)
            lasted = Stopwatch.GetElapsedTime(Interlocked.Read(ref _since));
        return ended;
    }

    /// <summary>A call to <paramref name="store"/> succeeded: if it ends a run of failures, <paramref name="log"/> says so once.</summary>
    public void Succeeded(ILoggingAdapter log, string store)
    {
        var ended = Succeeded(out var lasted);
        if (ended > 0)
            log.Info("{0} answers again after {1} failed calls in {2}s", store, ended, Math.Round(lasted.TotalSeconds, 1));
    }
}
