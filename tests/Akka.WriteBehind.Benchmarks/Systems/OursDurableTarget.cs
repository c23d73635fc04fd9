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
        long accepted = 0, rejected = 0, sent = 0;
        var next = -1;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        // closed loop as a careful user writes it: callers awaiting IncrementAsync, each taking the next increment once
        // answered (no semaphore, continuation or closure per increment in the load generator, which shares the cores)
        var callers = new Task[Math.Min(MaxInFlight, sequence.Length)];
        for (var c = 0; c < callers.Length; c++)
            callers[c] = CallerAsync();
        await Task.WhenAll(callers);
        return new SendResult(sent, accepted, rejected);

        async Task CallerAsync()
        {
            await Task.Yield();
            int i;
            while (clock.Elapsed < cap && (i = Interlocked.Increment(ref next)) < sequence.Length)
            {
                pacer.Wait(i);
                Interlocked.Increment(ref sent);
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
                    Interlocked.Increment(ref accepted);
                else
                    Interlocked.Increment(ref rejected);
            }
        }
    }

    private protected override Task WarmUpAsync(string key) => Counters.IncrementAsync(key, 1);
}
