using System.Collections.Concurrent;
using Akka.Actor;
using Akka.WriteBehind.CallGroups;
using Akka.WriteBehind.Counters;
using Akka.WriteBehind.Queues;
using Akka.WriteBehind.Tests.Support;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Queues;

/// <summary>
/// Overload with tiny limits: many concurrent clients (single asks and call groups) on a few keys. The queue never grows past
/// its bounds (observed through the queue's own bookkeeping, not time), every request is answered — accepted or refused
/// with QueueSaturated — and exactly the accepted increments reach the database.
/// </summary>
public sealed class InflightOverloadSpec : CounterSpecBase
{
    private const int MaxOutstanding = 4;
    private const int MaxPending = 5;
    private const int MaxActiveKeys = 8;
    private const int BufferSize = 30;
    private const int Keys = 20;

    private readonly GatedStore _gated;
    private readonly ConcurrentDictionary<string, long> _accepted = new();
    private int _refused;

    public InflightOverloadSpec(ITestOutputHelper output) : base(output, $$"""
        akka.write-behind.counters.ingest {
          max-outstanding = {{MaxOutstanding}}, max-pending = {{MaxPending}}, max-active-keys = {{MaxActiveKeys}}, buffer-size = {{BufferSize}}
        }
        """)
    {
        _gated = new GatedStore(Target);
        Store = _gated;
    }

    [Fact]
    public async Task Should_keep_queues_bounded_and_answer_every_request_under_overload()
    {
        var queue = Counters.Queue!;

        // phase 1: entities cannot load, so nothing drains: 32 clients x 50 asks fill every bound and the rest is refused
        var held = Clients(clients: 32, asksEach: 50, seed: 1);
        await AwaitAssertAsync(() => Assert.True(held.Count(t => t.IsCompleted) >= held.Length - BufferSize - MaxOutstanding,
            $"{held.Count(t => t.IsCompleted)} of {held.Length} answered while the store is shut"), AwaitTimeout);
        Assert.True(queue.Queued <= BufferSize);
        _gated.Open();
        await Task.WhenAll(held).WaitAsync(TimeSpan.FromSeconds(60));

        // phase 2: draining, under load: 16 clients asking one after another, and call groups of 25 at once
        var asks = Enumerable.Range(0, 16).Select(c => SequentialClientAsync(c, asksEach: 50)).ToArray();
        var groups = Enumerable.Range(0, 8).Select(g => RunGroupAsync(g)).ToArray();
        await Task.WhenAll(asks).WaitAsync(TimeSpan.FromSeconds(60));
        var outcomes = await Task.WhenAll(groups).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.All(outcomes, o => Assert.Equal(25, o.Count));
        Assert.DoesNotContain(outcomes.SelectMany(o => o.Values), o => o is Outcome.TimedOut);
        Assert.True(_refused > 0, "the limits were never reached: not an overload");
        Assert.Equal(_refused, (int)(queue.Saturations(QueueLimit.Width) + queue.Saturations(QueueLimit.Depth) + queue.Saturations(QueueLimit.Total)));

        // bounded: never more than the limits queued, per key, in keys, in all
        Output?.WriteLine($"accepted {_accepted.Values.Sum()} over {_accepted.Count} keys, refused {_refused}; peaks: width {queue.PeakWidth}, " +
            $"keys {queue.PeakActiveKeys}, queued {queue.PeakQueued}");
        Assert.InRange(queue.PeakWidth, 1, MaxPending);
        Assert.InRange(queue.PeakActiveKeys, 1, MaxActiveKeys);
        Assert.InRange(queue.PeakQueued, 1, BufferSize);

        // nothing accepted is lost, nothing refused is applied
        foreach (var (key, sum) in _accepted)
            Assert.Equal(new CounterFlushed(key, sum), await AskAsync(new FlushCounter(key)));
    }

    private Task<ICounterReply>[] Clients(int clients, int asksEach, int seed)
    {
        var random = new Random(seed);
        var keys = Enumerable.Range(0, clients * asksEach).Select(_ => $"ol-{random.Next(Keys)}").ToArray();
        return Enumerable.Range(0, clients).AsParallel().SelectMany(c =>
            Enumerable.Range(0, asksEach).Select(i =>
            {
                var key = keys[c * asksEach + i];
                return Count(key, AskAsync(new Increment(key, 1)));
            }).ToArray()).ToArray();
    }

    private async Task SequentialClientAsync(int client, int asksEach)
    {
        for (var i = 0; i < asksEach; i++)
        {
            var key = $"ol-{(client * 31 + i * 7) % Keys}";
            await Count(key, AskAsync(new Increment(key, 1)));
        }
    }

    private async Task<ICounterReply> Count(string key, Task<ICounterReply> ask)
    {
        var reply = await ask;
        Tally(key, reply);
        return reply;
    }

    private async Task<IReadOnlyDictionary<int, Outcome>> RunGroupAsync(int group)
    {
        var calls = CallGroup<int>.Create();
        for (var i = 0; i < 25; i++)
            calls = calls.AddCounter(i, Region, new Increment($"ol-{(group * 7 + i) % Keys}", 1));
        var outcomes = await calls.RunAsync(Sys, TimeSpan.FromSeconds(50));
        foreach (var (id, outcome) in outcomes)
        {
            var key = ((Increment)((CounterGroupOperation)calls.Operations[id].Operation).Command).Key;
            switch (outcome)
            {
                case Outcome.Succeeded { Result: ICounterReply reply }:
                    Tally(key, reply);
                    break;
                case Outcome.Failed failed:
                    Tally(key, new CounterRejected(key, failed.Error, failed.Message) { Saturation = failed.Saturation });
                    break;
            }
        }

        return outcomes;
    }

    private void Tally(string key, ICounterReply reply)
    {
        switch (reply)
        {
            case IncrementAccepted accepted:
                _accepted.AddOrUpdate(key, accepted.Delta, (_, sum) => sum + accepted.Delta);
                break;
            case CounterRejected { Code: ErrorCode.Saturated, Saturation: not null }:
                Interlocked.Increment(ref _refused);
                break;
            default:
                throw new Xunit.Sdk.XunitException($"unexpected reply {reply}");
        }
    }
}
