using Akka.Actor;
using Akka.WriteBehind.Batches;
using Akka.WriteBehind.Tests.Support;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Batches;

/// <summary>
/// A stop reaching an entity in each state it can wait in. min-duration is 60s, so only the stop (or early-close) ends a
/// batch within the test's timeout; operations go to the entity directly so that their order around the stop is fixed.
/// </summary>
public sealed class BatchStopWhileLoadingSpec(ITestOutputHelper output) : TapeSpecBase(output, """
    akka.write-behind.batches.types.tapes { min-duration = 60s, max-duration = 120s }
    """)
{
    [Fact]
    public async Task Should_run_what_was_queued_during_the_load_then_save_and_stop()
    {
        var first = await RunHeldAsync("loading", new Append("a"));
        await StopStates.StopWithOneQueuedAsync(this, "loading", first);
        Assert.Equal(["a", "b"], Store.Entries("loading"));
        Assert.Equal(1, Store.Saves("loading"));
    }

    [Fact]
    public async Task Should_end_a_failed_loads_batch_and_stop_at_once()
    {
        Store.FailNextLoads(1);
        Assert.Equal(ErrorCode.StoreFailure, (await FailureOf(RunAsync("failed", new Append("a")))).Code);
        var entity = await StopStates.EntityAsync(this, "failed");

        // the failed batch stays until min-duration (60s): one joining it shares its failure
        var joining = CreateTestProbe();
        entity.Tell(StopStates.Run("failed", "b"), joining);
        Assert.Equal(ErrorCode.StoreFailure, (await joining.ExpectMsgAsync<OperationFailed>(AwaitTimeout)).Code);

        Watch(entity);
        entity.Tell(StopBatchEntity.Instance);
        await ExpectTerminatedAsync(entity, AwaitTimeout);
        Assert.Empty(Store.Entries("failed"));
        Assert.Equal(0, Store.Saves("failed"));
    }
}

/// <summary>A stop reaching an entity whose batch is being saved, with operations queued behind it for the next batch.</summary>
public sealed class BatchStopWhileSavingSpec(ITestOutputHelper output) : TapeSpecBase(output, """
    akka.write-behind.batches.types.tapes { min-duration = 60s, max-duration = 120s, early-close = on, keep-loaded = on }
    """)
{
    [Fact]
    public async Task Should_run_what_waits_behind_the_save_in_a_further_batch_then_stop()
    {
        var first = await RunHeldAsync("saving", new Append("a"), holdSave: true);
        await StopStates.StopWithOneQueuedAsync(this, "saving", first);

        // the further batch ran on the held resource (keep-loaded): one load, a save per batch
        Assert.Equal(["a", "b"], Store.Entries("saving"));
        Assert.Equal(1, Store.Loads("saving"));
        Assert.Equal(2, Store.Saves("saving"));
    }
}

file static class StopStates
{
    /// <summary>The key's entity, to tell it operations and the stop directly.</summary>
    public static Task<IActorRef> EntityAsync(TapeSpecBase spec, string key) =>
        spec.Sys.ActorSelection($"/system/sharding/{spec.TypeName}/*/{key}").ResolveOne(BatchSpecBase<Tape>.AwaitTimeout);

    /// <summary>
    /// With the key's first call held at the store's gate: tells its entity an operation, the stop, and one more, which is
    /// refused; then opens the gates, and checks that the first call and the queued operation are answered (in one batch or
    /// two, the tape grows by one each) and that the entity stops.
    /// </summary>
    public static async Task StopWithOneQueuedAsync(TapeSpecBase spec, string key, Task<TapeLength> first)
    {
        var entity = await EntityAsync(spec, key);
        var queued = spec.CreateTestProbe();
        var late = spec.CreateTestProbe();

        entity.Tell(Run(key, "b"), queued);
        entity.Tell(StopBatchEntity.Instance);
        entity.Tell(Run(key, "c"), late);
        Assert.Equal(ErrorCode.ShuttingDown, (await late.ExpectMsgAsync<OperationFailed>(BatchSpecBase<Tape>.AwaitTimeout)).Code);

        queued.Watch(entity);
        spec.Store.OpenGates();
        Assert.Equal(new TapeLength(1), await first.WaitAsync(BatchSpecBase<Tape>.AwaitTimeout));
        Assert.Equal(new TapeLength(2), (await queued.ExpectMsgAsync<OperationSucceeded>(BatchSpecBase<Tape>.AwaitTimeout)).Result);
        await queued.ExpectTerminatedAsync(entity, BatchSpecBase<Tape>.AwaitTimeout);
    }

    public static RunOperation Run(string key, string entry) => new(key, Guid.NewGuid(), new Append(entry), DateTime.UtcNow.AddMinutes(5));
}
