using Akka.WriteBehind.Counters;

namespace Akka.WriteBehind.Benchmarks.Systems;

/// <summary>
/// The acknowledged fast path with journal durability: <see cref="MaxInFlight"/> callers, each awaiting
/// <see cref="CounterSet.IncrementAsync(string, long)"/> and then taking the next increment; each completes once its aggregate
/// is persisted in its shard's log (Akka.Persistence.Sql on a SQLite file). Accepted = acknowledged; a typed refusal counts
/// as rejected.
/// </summary>
internal sealed class OursDurableTarget() : OursCounterTarget(journal: true)
{
    /// <summary>Callers waiting for their acknowledgement at the same time.</summary>
    public const int MaxInFlight = 10_000;

    public override async Task<SendResult> SendAsync(string[] keys, int[] sequence, Pacer pacer, TimeSpan cap)
    {
        var counters = Counters;
        var deadline = Environment.TickCount64 + (long)Math.Min(cap.TotalMilliseconds, int.MaxValue);
        // closed loop as a careful user writes it: callers awaiting IncrementAsync, each taking its next increment once
        // answered. Caller c takes increments c, c + callers, ... and keeps its own tallies, as the Orleans peer's senders
        // take every n-th: no counter shared between the cores per increment (three were about a tenth of the load
        // generator's CPU), and no semaphore, continuation or closure per increment
        var callers = new Task<SendResult>[Math.Min(MaxInFlight, sequence.Length)];
        for (var c = 0; c < callers.Length; c++)
            callers[c] = CallerAsync(c, callers.Length);
        var results = await Task.WhenAll(callers);
        return new SendResult(results.Sum(r => r.Sent), results.Sum(r => r.Accepted), results.Sum(r => r.Rejected));

        async Task<SendResult> CallerAsync(int first, int stride)
        {
            await Task.Yield();
            long sent = 0, accepted = 0, rejected = 0;
            for (var i = first; i < sequence.Length && Environment.TickCount64 < deadline; i += stride)
            {
                pacer.Wait(i);
                sent++;
                ICounterReply? reply;
                try
                {
                    reply = await counters.IncrementAsync(keys[sequence[i]], 1);
                }
                catch (Exception)
                {
                    reply = null; // a faulted task: counted as not acknowledged, as a refusal is (the total is verified)
                }

                if (reply is IncrementAccepted)
                    accepted++;
                else
                    rejected++;
            }

            return new SendResult(sent, accepted, rejected);
        }
    }

    private protected override Task WarmUpAsync(string key) => Counters.IncrementAsync(key, 1);
}
