using System.Diagnostics;
using Akka.Actor;

namespace Akka.WriteBehind.Internal;

/// <summary>
/// INTERNAL API
/// <para>
/// Tells actors a message at a deadline, to within about a tenth of a millisecond on Linux and macOS (a millisecond elsewhere). Akka's scheduler rounds every timer up to its
/// wheel's tick (10 ms at least, and it refuses a finer <c>akka.scheduler.tick-duration</c>), so a latency that is
/// mostly one timer (a batch open for <c>min-duration</c>) gained up to a tick at every percentile. One thread per timer
/// sleeps until the earliest deadline; scheduling takes a lock and a heap insertion, with nothing to cancel: a receiver
/// recognises a deadline that no longer applies (for example by an id in the message) and ignores it.
/// </para>
/// <para>Messages should implement <see cref="Akka.Event.IDeadLetterSuppression"/>: one due after its receiver stopped is not news.</para>
/// </summary>
internal sealed class DeadlineTimer : IDisposable
{
    private readonly PriorityQueue<(IActorRef To, object Message), long> _due = new();
    private readonly object _gate = new();
    private readonly List<(IActorRef To, object Message)> _fired = new();
    private bool _disposed;

    /// <param name="name">The thread's name (seen in dumps and profiles).</param>
    public DeadlineTimer(string name)
    {
        var thread = new Thread(Run) { IsBackground = true, Name = name };
        thread.Start();
    }

    /// <summary>Deadlines not yet due (for tests).</summary>
    public int Pending
    {
        get
        {
            lock (_gate)
                return _due.Count;
        }
    }

    /// <summary>Tells <paramref name="message"/> to <paramref name="to"/> once <paramref name="after"/> has passed (at once when it is not positive).</summary>
    public void Schedule(IActorRef to, object message, TimeSpan after)
    {
        var at = Stopwatch.GetTimestamp() + (long)(after.TotalSeconds * Stopwatch.Frequency);
        lock (_gate)
        {
            if (_disposed)
                return;
            var earliest = _due.Count == 0 || at < PeekDue();
            _due.Enqueue((to, message), at);
            if (earliest)
                Monitor.Pulse(_gate); // the sleeper waits for a later deadline: it must wake sooner
        }
    }

    /// <summary>Stops the thread; deadlines not yet due are not told.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            _due.Clear();
            Monitor.Pulse(_gate);
        }
    }

    private long PeekDue() => _due.TryPeek(out _, out var at) ? at : long.MaxValue;

    private void Run()
    {
        while (true)
        {
            var finalSleep = 0L; // microseconds to the earliest deadline, slept without the lock
            lock (_gate)
            {
                while (true)
                {
                    if (_disposed)
                        return;
                    var now = Stopwatch.GetTimestamp();
                    while (_due.TryPeek(out var entry, out var at) && at <= now)
                    {
                        _due.Dequeue();
                        _fired.Add(entry);
                    }

                    if (_fired.Count > 0)
                        break;
                    if (_due.Count == 0)
                    {
                        Monitor.Wait(_gate);
                        continue;
                    }

                    var left = PeekDue() - now;
                    if (FineSleep.Available)
                    {
                        // the wait's resolution is a millisecond, rounded up: wait the whole milliseconds less one (a
                        // Schedule for an earlier deadline still wakes it), then sleep the rest to the microsecond
                        var wholeMs = left * 1000 / Stopwatch.Frequency;
                        if (wholeMs >= 2)
                        {
                            Monitor.Wait(_gate, (int)Math.Min(wholeMs - 1, int.MaxValue));
                            continue;
                        }

                        // at least 100 µs: under load deadlines come microseconds apart, and one wake-up each would cost
                        // more than the precision is worth; a wake-up tells every deadline due by then
                        finalSleep = Math.Max(left * 1_000_000 / Stopwatch.Frequency, 100);
                        break;
                    }

                    // rounded up to the millisecond: waking early would only loop
                    var waitMs = (left * 1000 + Stopwatch.Frequency - 1) / Stopwatch.Frequency;
                    Monitor.Wait(_gate, (int)Math.Min(waitMs, int.MaxValue));
                }
            }

            if (finalSleep > 0)
            {
                FineSleep.Microseconds(finalSleep);
                continue;
            }

            // told outside the lock: a Tell enqueues into a mailbox and may schedule it, which must not hold up Schedule
            foreach (var (to, message) in _fired)
                to.Tell(message, ActorRefs.NoSender);
            _fired.Clear();
        }
    }

    /// <summary>
    /// A sleep finer than the runtime's millisecond waits: the C library's <c>usleep</c> where there is one (Linux, macOS),
    /// which wakes within the kernel's timer slack (about 50 µs on Linux).
    /// </summary>
    private static class FineSleep
    {
        // tried once: a C library without usleep (or none named libc) leaves the timer on millisecond waits, not dead
        public static readonly bool Available = (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS()) && Works();

        public static void Microseconds(long microseconds) => usleep((uint)Math.Min(microseconds, 1_000_000));

        private static bool Works()
        {
            try
            {
                usleep(0);
                return true;
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                return false;
            }
        }

        [System.Runtime.InteropServices.DllImport("libc", SetLastError = false)]
        private static extern int usleep(uint microseconds);
    }
}
