using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.WriteBehind.Batches;
using Akka.WriteBehind.Tests.Support;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Batches;

/// <summary>
/// The grouping stage's direct route to a key's entity in the same process: opened only behind every send through the
/// shard, closed by a stopping entity before it stops, so no operation is lost, refused or run out of its call order.
/// </summary>
public sealed class BatchRouteSpec(ITestOutputHelper output) : TapeSpecBase(output, """
    akka.write-behind.batches.types.tapes { min-duration = 10ms, keep-loaded = on }
    """)
{
    [Fact]
    public async Task Should_tell_a_key_s_operations_to_its_entity_directly_once_it_took_the_last_send_through_the_shard()
    {
        var first = SendTracked("direct", "first", out var probe);
        await probe.ExpectMsgAsync<OperationSucceeded>(AwaitTimeout);
        Assert.False(first.SentDirect); // the entity is not known before its first operation

        await AwaitAssertAsync(async () =>
        {
            var next = SendTracked("direct", "next", out var nextProbe);
            await nextProbe.ExpectMsgAsync<OperationSucceeded>(AwaitTimeout);
            Assert.True(next.SentDirect);
        }, AwaitTimeout, TimeSpan.FromMilliseconds(100));

    }

    [Fact]
    public async Task Should_open_a_route_only_when_the_entity_took_the_key_s_last_send_through_the_region()
    {
        var ingest = new BatchIngest();
        var entity = CreateTestProbe().Ref;
        ingest.Add(Call("k", "a"));
        ingest.DrainReadyShared((cell, _) => cell.LastRegionSend = 1);
        ingest.Add(Call("k", "b"));
        ingest.DrainReadyShared((cell, _) => cell.LastRegionSend = 2);

        // send 2 may still be on its way through the shard: a direct call could overtake it
        Assert.False(ingest.TryOpenRoute("k", 1, entity));
        Assert.Null(ingest.RouteOf("k"));
        Assert.True(ingest.TryOpenRoute("k", 2, entity));
        Assert.Equal(entity, ingest.RouteOf("k"));
        Assert.False(ingest.TryOpenRoute("unknown", 2, entity));
    }

    [Fact]
    public void Should_close_a_route_only_for_the_entity_it_leads_to()
    {
        var ingest = new BatchIngest();
        var entity = CreateTestProbe().Ref;
        var earlier = CreateTestProbe().Ref;
        ingest.Add(Call("k", "a"));
        ingest.DrainReadyShared((cell, _) => cell.LastRegionSend = 7);
        Assert.True(ingest.TryOpenRoute("k", 7, entity));

        ingest.CloseRoute("k", earlier); // an earlier incarnation's late closing
        Assert.Equal(entity, ingest.RouteOf("k"));
        ingest.CloseRoute("k", entity);
        Assert.Null(ingest.RouteOf("k"));
    }

    [Fact]
    public async Task Should_run_every_operation_once_and_in_call_order_while_its_routed_entity_passivates_under_load()
    {
        const string key = "passivating";
        var runs = new List<Task<TapeLength>>();
        var next = 0;

        void Wave()
        {
            for (var i = 0; i < 200; i++, next++)
                runs.Add(RunAsync(key, new Append($"{next}")));
        }

        for (var incarnation = 0; incarnation < 5; incarnation++)
        {
            Wave();
            var entity = await EntityAsync(key);
            // the stage tells this incarnation the key's operations directly
            await AwaitAssertAsync(async () =>
            {
                Wave();
                var tracked = SendTracked(key, $"{next++}", out var probe);
                var answer = await probe.ExpectMsgAsync<OperationSucceeded>(AwaitTimeout);
                runs.Add(Task.FromResult((TapeLength)answer.Result!)); // answered to its probe, and on the tape like the rest
                Assert.True(tracked.SentDirect);
            }, AwaitTimeout, TimeSpan.FromMilliseconds(50));

            // what the entity itself sends its shard when idle; operations keep coming while it stops
            Watch(entity);
            Sys.ActorSelection(entity.Path.Parent).Tell(new Passivate(StopBatchEntity.Instance), entity);
            Wave();
            await ExpectTerminatedAsync(entity, AwaitTimeout);
            Unwatch(entity);
            Wave();
        }

        // every operation succeeded (none refused as the entity stopped, none lost to a stopped entity) ...
        var lengths = await Task.WhenAll(runs).WaitAsync(AwaitTimeout);
        Assert.Equal(Enumerable.Range(1, next), lengths.Select(l => l.Length));
        // ... and was applied once, in the order it was called
        Assert.Equal(Enumerable.Range(0, next).Select(i => $"{i}"), Store.Entries(key));
    }

    private BatchCall SendTracked(string key, string entry, out Akka.TestKit.TestProbe probe)
    {
        probe = CreateTestProbe();
        var run = new RunOperation(key, Processor.Ingest.NewOperationId(), new Append(entry), DateTime.UtcNow.AddMinutes(1));
        Processor.Send(run, probe.Ref);
        return run.LocalCall!;
    }

    /// <summary>The key's entity once it runs (its first operation may still be on its way).</summary>
    private async Task<IActorRef> EntityAsync(string key)
    {
        IActorRef? entity = null;
        await AwaitAssertAsync(async () =>
            entity = await Sys.ActorSelection($"/system/sharding/{TypeName}/*/{key}").ResolveOne(TimeSpan.FromSeconds(3)),
            AwaitTimeout, TimeSpan.FromMilliseconds(100));
        return entity!;
    }

    private static BatchCall Call(string key, string entry) =>
        new(new RunOperation(key, Guid.NewGuid(), new Append(entry), DateTime.UtcNow.AddMinutes(1)), long.MaxValue, TimeSpan.FromMinutes(1));
}
