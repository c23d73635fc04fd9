using Akka.WriteBehind.Counters;

namespace Akka.WriteBehind.Benchmarks.Systems;

/// <summary>
/// The library's fast path: a one-node cluster, <see cref="WriteBehindCounters.StartAsync"/> on a SQLite file (memory
/// durability), and <see cref="CounterSet.Increment"/> — increments summed per key in-process and drained every
/// <c>ingest.aggregate-window</c> (default 5ms) into one message per key through the flow-controlled ingest stage.
/// A refusal (<see cref="FastIncrementStatus"/> other than Buffered) is counted as rejected; an aggregate refused later by its
/// entity would show as a database total below the accepted count (the round fails verification).
/// With <paramref name="journal"/>, journal durability (Akka.Persistence.Sql on a SQLite file): each drained aggregate is one
/// journaled increment, acknowledged to the fast path once journaled.
/// </summary>
/// <param name="journal">Journal durability instead of memory.</param>
internal sealed class OursFastTarget(bool journal) : OursCounterTarget(journal)
{
    public override Task<SendResult> SendAsync(string[] keys, int[] sequence, Pacer pacer, TimeSpan cap)
    {
        var counters = Counters;
        long accepted = 0, rejected = 0;
        for (var i = 0; i < sequence.Length; i++)
        {
            pacer.Wait(i);
            if (counters.Increment(keys[sequence[i]], 1) == FastIncrementStatus.Buffered)
                accepted++;
            else
                rejected++;
        }

        return Task.FromResult(new SendResult(sequence.Length, accepted, rejected));
    }

    private protected override Task WarmUpAsync(string key)
    {
        Counters.Increment(key, 1);
        return Task.CompletedTask;
    }
}
