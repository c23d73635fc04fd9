using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit;
using Akka.WriteBehind.Counters;
using Akka.WriteBehind.Queues;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Queues;

/// <summary>
/// The counters' per-key in-flight queue (the ingest stage) against a probe standing in for the shard region: keys take
/// turns first in, first out, a key's turn carries its whole queue in arrival order, and at max-active-keys a new key is
/// refused while work for a key already queued is merged.
/// </summary>
public sealed class CounterIngestQueueSpec(ITestOutputHelper output) : Akka.TestKit.Xunit2.TestKit(
    "akka.actor.serialize-messages = off", output: output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    // one message between the stage and the entities at a time: everything else waits in the per-key queues
    private (IActorRef Ingest, TestProbe Region, QueueLedger Ledger) Start(int maxActiveKeys)
    {
        var settings = CounterSettings.FromConfig(ConfigurationFactory.ParseString($$"""
            ingest { max-outstanding = 1, max-active-keys = {{maxActiveKeys}}, max-pending = 10, buffer-size = 100 }
            """).WithFallback(WriteBehindConfig.DefaultConfig().GetConfig(CounterSettings.ConfigPath)));
        var region = CreateTestProbe();
        var ledger = new QueueLedger(settings.TypeName, settings.Ingest.MaxActiveKeys);
        var ingest = Sys.ActorOf(CounterIngestActor.Props(region, settings, new CounterLedger(settings.TypeName), ledger,
            new CounterFastPath(settings.Ingest.FastPathMaxKeys)));
        return (ingest, region, ledger);
    }

    [Fact]
    public async Task Should_give_keys_their_turns_first_in_first_out_each_turn_carrying_the_keys_whole_queue()
    {
        var (ingest, region, _) = Start(maxActiveKeys: 100);
        ingest.Tell(new Increment("a", 1), TestActor);
        var straight = await region.ExpectMsgAsync<CounterEnvelope>(Timeout); // nothing queued: straight on, the one slot taken

        // queued in this order: b, c, a, d get their turns in the order they first got queued work
        foreach (var (key, delta) in new[] { ("b", 1L), ("c", 1L), ("a", 2L), ("b", 2L), ("d", 1L), ("b", 3L) })
            ingest.Tell(new Increment(key, delta), TestActor);
        await region.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200)); // the slot is still taken

        var turns = new List<(string Key, long[] Deltas)>();
        var taken = straight.Id;
        for (var i = 0; i < 4; i++)
        {
            ingest.Tell(new CounterEnvelopeTaken(taken));
            var message = await region.ExpectMsgAsync<IWithKey>(Timeout);
            (taken, var deltas) = message switch
            {
                CounterEnvelope envelope => (envelope.Id, new[] { ((Increment)envelope.Command).Delta }),
                CounterCommandSet set => (set.Id, set.Commands.Select(c => ((Increment)c.Command).Delta).ToArray()),
                _ => throw new InvalidOperationException($"unexpected {message}"),
            };
            turns.Add((message.Key, deltas));
        }

        Assert.Equal(["b", "c", "a", "d"], turns.Select(t => t.Key));
        Assert.Equal([1L, 2L, 3L], turns[0].Deltas); // merged, in arrival order
        Assert.Equal([2L], turns[2].Deltas);
        ExpectNoMsg(TimeSpan.FromMilliseconds(100)); // nothing refused
    }

    [Fact]
    public async Task Should_merge_work_for_a_queued_key_at_full_depth_while_refusing_a_new_key()
    {
        var (ingest, region, ledger) = Start(maxActiveKeys: 2);
        ingest.Tell(new Increment("a", 1), TestActor);
        var straight = await region.ExpectMsgAsync<CounterEnvelope>(Timeout);
        ingest.Tell(new Increment("b", 1), TestActor);
        ingest.Tell(new Increment("c", 1), TestActor); // two keys queued: the depth is full

        ingest.Tell(new Increment("d", 1), TestActor);
        var refused = await ExpectMsgAsync<CounterRejected>(Timeout);
        Assert.Equal(ErrorCode.Saturated, refused.Code);
        Assert.Equal(new QueueSaturated(ledger.Queue, "d", QueueLimit.Depth, 2, 2), refused.Saturation);

        // the queued keys still take work at full depth, up to their width
        for (var delta = 2L; delta <= 10; delta++)
            ingest.Tell(new Increment("b", delta), TestActor);
        ingest.Tell(new Increment("c", 2), TestActor);
        await ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200)); // none of them refused
        ingest.Tell(new Increment("b", 11), TestActor); // the 11th for b: beyond max-pending (width), not the depth
        Assert.Equal(QueueLimit.Width, (await ExpectMsgAsync<CounterRejected>(Timeout)).Saturation!.Limit);

        ingest.Tell(new CounterEnvelopeTaken(straight.Id));
        var b = await region.ExpectMsgAsync<CounterCommandSet>(Timeout);
        Assert.Equal("b", b.Key);
        Assert.Equal(Enumerable.Range(1, 10).Select(i => (long)i), b.Commands.Select(c => ((Increment)c.Command).Delta));

        // b's turn freed a place in the depth: a new key is queued again
        ingest.Tell(new Increment("d", 1), TestActor);
        await ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200));
        ingest.Tell(new CounterEnvelopeTaken(b.Id));
        Assert.Equal("c", (await region.ExpectMsgAsync<CounterCommandSet>(Timeout)).Key);
        Assert.Equal(1L, ledger.Saturations(QueueLimit.Depth));
    }
}
