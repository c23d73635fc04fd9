using Akka.Actor;
using Akka.WriteBehind.Batches;
using Akka.WriteBehind.Tests.Support;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Batches;

public sealed class BatchStopSpec(ITestOutputHelper output) : Akka.TestKit.Xunit2.TestKit(TestConfig.Cluster(), output: output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Should_save_open_batches_on_coordinated_shutdown_and_refuse_new_operations()
    {
        var store = new TapeStore();
        var (system, processor) = await StartNodeAsync(store);

        var keys = Enumerable.Range(0, 10).Select(i => $"stop-{i}").ToArray();
        var runs = keys.SelectMany(key => Enumerable.Range(0, 5).Select(i => processor.RunAsync(key, new Append($"e{i}")))).ToArray();
        await Eventually.TrueAsync(() => keys.All(k => store.Loads(k) == 1), Timeout, "every key's batch loaded");
        Assert.DoesNotContain(runs, r => r.IsCompleted);

        var shutdown = CoordinatedShutdown.Get(system).Run(CoordinatedShutdown.ClrExitReason.Instance);

        var late = await Assert.ThrowsAsync<BatchOperationException>(() => processor.RunAsync("stop-0", new Append("late")));
        Assert.Equal(ErrorCode.ShuttingDown, late.Code);
        await Task.WhenAll(runs).WaitAsync(Timeout);
        await shutdown.WaitAsync(Timeout);
        await system.WhenTerminated.WaitAsync(Timeout);

        foreach (var key in keys)
        {
            Assert.Equal(["e0", "e1", "e2", "e3", "e4"], store.Entries(key).Order());
            Assert.Equal(1, store.Saves(key));
        }
    }

    [Fact]
    public async Task Should_answer_shutting_down_to_operations_reaching_a_stopping_entity()
    {
        var store = new TapeStore();
        store.CloseSaveGate();
        var (system, processor) = await StartNodeAsync(store);
        var first = processor.RunAsync("stopping", new Append("a"));
        await Eventually.TrueAsync(() => store.Loads("stopping") == 1, Timeout, "the batch loaded");
        var entity = await system.ActorSelection("/system/sharding/tapes/*/stopping").ResolveOne(Timeout);

        // the stop closes the batch at once; its save waits at the gate, so the entity is still there, stopping
        entity.Tell(StopBatchEntity.Instance);
        await Eventually.TrueAsync(() => store.GatedCalls.Contains("stopping"), Timeout, "the save started");
        var probe = CreateTestProbe(system);
        var id = Guid.NewGuid();
        entity.Tell(new RunOperation("stopping", id, new Append("b"), DateTime.UtcNow.AddMinutes(1)), probe);
        var refused = await probe.ExpectMsgAsync<OperationFailed>(Timeout);
        Assert.Equal(ErrorCode.ShuttingDown, refused.Code);

        probe.Watch(entity);
        store.OpenGates();
        Assert.Equal(new TapeLength(1), await first.WaitAsync(Timeout));
        await probe.ExpectTerminatedAsync(entity, Timeout);
        Assert.Equal(["a"], store.Entries("stopping"));
        await system.Terminate();
    }

    /// <summary>A one-node cluster of its own (it is shut down by the test) running tapes with min-duration 60s: only a stop
    /// can close their batches within the test's timeout.</summary>
    private static async Task<(ActorSystem System, BatchProcessor<Tape> Processor)> StartNodeAsync(TapeStore store)
    {
        var system = ActorSystem.Create("batch-stop", TestConfig.Cluster("""
            akka.write-behind.batches.types.tapes { min-duration = 60s, max-duration = 120s }
            """));
        await Cluster.Cluster.Get(system).JoinAsync(Cluster.Cluster.Get(system).SelfAddress);
        return (system, await WriteBehindBatches.StartAsync(system, "tapes", store, TapeHandler.Instance));
    }
}

public sealed class BatchPassivationSpec(ITestOutputHelper output) : TapeSpecBase(output, """
    akka.write-behind.batches.types.tapes {
      keep-loaded = on
      passivate-idle-after = 1s
    }
    """)
{
    [Fact]
    public async Task Should_drop_the_held_resource_when_an_idle_entity_is_passivated()
    {
        Assert.Equal(new TapeLength(1), await RunAsync("idle", new Append("a")).WaitAsync(AwaitTimeout));
        var entity = await Sys.ActorSelection($"/system/sharding/{TypeName}/*/idle").ResolveOne(AwaitTimeout);
        Watch(entity);

        await ExpectTerminatedAsync(entity, AwaitTimeout);

        // a new incarnation loads the stored tape again
        Assert.Equal(new TapeLength(2), await RunAsync("idle", new Append("b")).WaitAsync(AwaitTimeout));
        Assert.Equal(2, Store.Loads("idle"));
        Assert.Equal(["a", "b"], Store.Entries("idle"));
    }
}

public sealed class BatchBusyPassivationSpec(ITestOutputHelper output) : TapeSpecBase(output, """
    akka.write-behind.batches.types.tapes {
      keep-loaded = on
      passivate-idle-after = 4s
    }
    """)
{
    [Fact]
    public async Task Should_keep_an_entity_whose_batches_keep_coming()
    {
        // a batch every ~300 ms (min-duration 100 ms, then a 200 ms pause) for ~9 s, more than twice passivate-idle-after:
        // never idle for its 4 s, so one incarnation, which loaded the tape once. The 4 s leave a loaded box's stalls room.
        for (var i = 0; i < 30; i++)
        {
            Assert.Equal(new TapeLength(i + 1), await RunAsync("busy", new Append($"{i}")).WaitAsync(AwaitTimeout));
            await Task.Delay(TimeSpan.FromMilliseconds(200)); // the caller's pace, not a wait for a condition
        }

        Assert.Equal(1, Store.Loads("busy"));

        // once the batches stop coming, the same setting passivates it
        var entity = await Sys.ActorSelection($"/system/sharding/{TypeName}/*/busy").ResolveOne(AwaitTimeout);
        Watch(entity);
        await ExpectTerminatedAsync(entity, AwaitTimeout);
    }
}
