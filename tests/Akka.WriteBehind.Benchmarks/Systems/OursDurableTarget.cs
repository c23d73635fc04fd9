using Akka.WriteBehind.Counters;

namespace Akka.WriteBehind.Benchmarks.Systems;

/// <summary>
/// The acknowledged fast path with journal durability: callers await <see cref="CounterSet.IncrementAsync(string, long)"/>,
/// <see cref="MaxInFlight"/> at a time; each completes once its aggregate is persisted in its shard's log (Akka.Persistence.Sql
/// on a SQLite file). Accepted = acknowledged; a typed refusal counts as rejected.
/// </summary>
internal sealed class OursDurableTarget() : OursCounterTarget(journal: true)
{
    /// <summary>Callers waiting for their acknowledgement at the same time.</summary>
    public const int MaxInFlight = 10_000;

    public override async Task<SendResult> SendAsync(string[] keys, int[] sequence, Pacer pacer, TimeSpan cap)
    {
        var counters = Counters;
        using var window = new SemaphoreSlim(MaxInFlight, MaxInFlight);
        long accepted = 0, rejected = 0, sent = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 0; i < sequence.Length && clock.Elapsed < cap; i++)
        {
            pacer.Wait(i);
            await window.WaitAsync();
            sent++;
            _ = counters.IncrementAsync(keys[sequence[i]], 1).ContinueWith(t =>
            {
                if (t.IsCompletedSuccessfully && t.Result is IncrementAccepted)
                    Interlocked.Increment(ref accepted);
                else
                    Interlocked.Increment(ref rejected);
                window.Release();
            }, TaskContinuationOptions.ExecuteSynchronously);
        }

        for (var i = 0; i < MaxInFlight; i++)
            await window.WaitAsync();
        return new SendResult(sent, accepted, rejected);
    }

    private protected override Task WarmUpAsync(string key) => Counters.IncrementAsync(key, 1);
}
