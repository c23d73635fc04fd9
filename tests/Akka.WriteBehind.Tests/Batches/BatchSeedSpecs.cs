using Akka.Actor;
using Akka.WriteBehind.Batches;
using Akka.WriteBehind.Tests.Support;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Batches;

/// <summary>
/// The batch behaviours the elgopher/batch seed promises (and where we differ, ours), each proven on a one-node cluster.
/// min-duration 5s keeps a batch open long enough for every step of a spec to reach it on a loaded machine.
/// </summary>
public sealed class BatchSeedSpecs(ITestOutputHelper output) : TapeSpecBase(output, """
    akka.write-behind.batches.types.tapes {
      min-duration = 5s
      max-duration = 30s
    }
    """)
{
    private readonly HoldingTapeHandler _handler = new();

    internal override OperationHandler<Tape> Handler => _handler;

    [Fact]
    public async Task Should_fail_every_operation_of_a_batch_whose_load_failed_and_load_again_in_the_next_batch()
    {
        const string key = "load-fails";
        Store.FailNextLoads(1);
        var first = await RunHeldAsync(key, new Append("a"));
        var queued = new[] { RunAsync(key, new Append("b")), RunAsync(key, new Refuse("c")) };
        await Eventually.TrueAsync(() => Processor.Queues.Queued == 3, AwaitTimeout, "three operations queued behind the load");

        Store.OpenGates();

        // every operation queued for the batch gets the load's failure (elgopher would fail only the first)
        foreach (var run in queued.Prepend(first))
        {
            var failure = await FailureOf(run);
            Assert.Equal(ErrorCode.StoreFailure, failure.Code);
            Assert.Contains("injected load failure", failure.Message);
        }

        // an operation joining the failed batch before min-duration shares its failure without another load
        var joined = await FailureOf(RunAsync(key, new Append("d")));
        Assert.Equal(ErrorCode.StoreFailure, joined.Code);
        Assert.Equal(1, Store.Loads(key));

        var metric = await NextMetricAsync(key);
        Assert.Equal(ErrorCode.StoreFailure, metric.Error);
        Assert.Equal(4, metric.OperationCount);
        Assert.Equal(0, Store.Saves(key));

        // nothing of the failed batch was kept; the next operation opens a fresh batch, which loads again
        Assert.Equal(new TapeLength(1), await RunAsync(key, new Append("e")).WaitAsync(AwaitTimeout));
        Assert.Equal(2, Store.Loads(key));
        Assert.Equal(["e"], Store.Entries(key));
    }

    [Fact]
    public async Task Should_answer_an_operation_cancelled_after_it_ran_with_its_batch_outcome()
    {
        const string key = "cancel-after-run";
        var probe = CreateTestProbe();
        var id = Guid.NewGuid();
        Store.GateOnlyKey = key;
        Store.CloseSaveGate();
        var entity = Processor.ShardRegion;
        entity.Tell(new RunOperation(key, id, new Append("ran"), DateTime.UtcNow.AddMinutes(1)), probe);
        // max-operations is not reached, so a stop closes the batch at once: the operation ran and its save is held
        await Eventually.TrueAsync(() => Store.Loads(key) == 1, AwaitTimeout, "the batch loaded");
        var actor = await Sys.ActorSelection($"/system/sharding/{TypeName}/*/{key}").ResolveOne(AwaitTimeout);
        actor.Tell(StopBatchEntity.Instance);
        await GatedCallAsync(key);

        // the cancellation, then a marker from the same sender: once the marker is queued, the cancellation was handled
        actor.Tell(new CancelOperation(key, id), probe);
        actor.Tell(new RunOperation(key, Guid.NewGuid(), new ReadTape(), DateTime.UtcNow.AddMinutes(1)), probe);
        await probe.ExpectMsgAsync<OperationFailed>(f => Assert.Equal(ErrorCode.ShuttingDown, f.Code), AwaitTimeout);
        Store.OpenGates();

        var reply = await probe.ExpectMsgAsync<OperationSucceeded>(AwaitTimeout);
        Assert.Equal(id, reply.OperationId);
        Assert.Equal(new TapeLength(1), reply.Result);
        Assert.Equal(["ran"], Store.Entries(key));
    }

    [Fact]
    public async Task Should_end_the_batch_after_an_operation_that_ran_past_min_duration()
    {
        const string key = "ran-past";
        var slow = RunAsync(key, new HoldAppend("slow"));
        await _handler.Started.WaitAsync(AwaitTimeout);
        // sent while the slow operation runs: it waits in the entity's mailbox, ahead of the min-duration timer
        var next = RunAsync(key, new Append("next"));
        await Eventually.TrueAsync(() => Processor.Ingest.Waiting == 0, AwaitTimeout, "the next operation sent to the entity");

        // the operation under test runs past min-duration: wait that long (measured from its start, after the batch opened)
        await Task.Delay(TimeSpan.FromSeconds(5.5));
        _handler.Release.Set();

        Assert.Equal(new TapeLength(1), await slow.WaitAsync(AwaitTimeout));
        Assert.Equal(new TapeLength(2), await next.WaitAsync(AwaitTimeout));
        Assert.Equal(1, (await NextMetricAsync(key)).OperationCount);
        Assert.Equal(1, (await NextMetricAsync(key)).OperationCount);
        Assert.Equal(2, Store.Saves(key));
        Assert.Equal(["slow", "next"], Store.Entries(key));
    }

    /// <summary>Appends like <see cref="Append"/>, but the handler holds it until <see cref="HoldingTapeHandler.Release"/> is set.</summary>
    private sealed record HoldAppend(string Entry) : IBatchOperation<TapeLength>;

    /// <summary>The tape handler with one slow operation: it blocks the entity on purpose, to be still running at min-duration.</summary>
    private sealed class HoldingTapeHandler : OperationHandler<Tape>
    {
        public SemaphoreSlim Started { get; } = new(0);

        public ManualResetEventSlim Release { get; } = new();

        public override OperationOutcome<Tape> Apply(string key, Tape resource, IBatchOperation operation)
        {
            if (operation is not HoldAppend hold)
                return TapeHandler.Instance.Apply(key, resource, operation);
            Started.Release();
            Release.Wait(TimeSpan.FromSeconds(30));
            return TapeHandler.Instance.Apply(key, resource, new Append(hold.Entry));
        }
    }
}

/// <summary>Shutdown of a node whose batch entities still have operations queued: they are saved, newcomers refused.</summary>
public sealed class BatchShutdownQueueSpec(ITestOutputHelper output) : Akka.TestKit.Xunit2.TestKit(TestConfig.Cluster(), output: output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Should_save_operations_queued_before_shutdown_and_refuse_those_after_it()
    {
        const string key = "queued-at-shutdown";
        var store = new TapeStore { GateOnlyKey = key };
        store.CloseSaveGate();
        // max-operations 1: the first operation's batch closes at once and its save is held, so the second one waits queued
        var system = ActorSystem.Create("batch-shutdown-queue", TestConfig.Cluster("""
            akka.write-behind.batches.types.tapes { min-duration = 60s, max-duration = 120s, max-operations = 1 }
            """));
        await Cluster.Cluster.Get(system).JoinAsync(Cluster.Cluster.Get(system).SelfAddress);
        var processor = await WriteBehindBatches.StartAsync(system, "tapes", store, TapeHandler.Instance);
        var queues = processor.Queues;

        var first = processor.RunAsync(key, new Append("first"));
        await Eventually.TrueAsync(() => store.GatedCalls.Contains(key), Timeout, "the first batch's save started");
        var queued = processor.RunAsync(key, new Append("queued"));
        await Eventually.TrueAsync(() => queues.Queued == 1, Timeout, "the second operation queued at the entity");
        var entity = await system.ActorSelection($"/system/sharding/tapes/*/{key}").ResolveOne(Timeout);

        // shutdown reaches the entity as its hand-off stop; a newcomer sent after it, from the same sender, is refused
        var probe = CreateTestProbe(system);
        entity.Tell(StopBatchEntity.Instance, probe);
        entity.Tell(new RunOperation(key, Guid.NewGuid(), new Append("late"), DateTime.UtcNow.AddMinutes(1)), probe);
        Assert.Equal(ErrorCode.ShuttingDown, (await probe.ExpectMsgAsync<OperationFailed>(Timeout)).Code);
        var shutdown = CoordinatedShutdown.Get(system).Run(CoordinatedShutdown.ClrExitReason.Instance);
        var late = await Assert.ThrowsAsync<BatchOperationException>(() => processor.RunAsync(key, new Append("late")));
        Assert.Equal(ErrorCode.ShuttingDown, late.Code);
        Assert.False(queued.IsCompleted);

        store.OpenGates();

        Assert.Equal(new TapeLength(1), await first.WaitAsync(Timeout));
        Assert.Equal(new TapeLength(2), await queued.WaitAsync(Timeout));
        await shutdown.WaitAsync(Timeout);
        await system.WhenTerminated.WaitAsync(Timeout);
        Assert.Equal(["first", "queued"], store.Entries(key));
        Assert.Equal(2, store.Saves(key));
    }
}
