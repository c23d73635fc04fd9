using Akka.Actor;
using Akka.WriteBehind.Batches;
using Akka.WriteBehind.Tests.Support;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Batches;

/// <summary>The behaviours of the Go elgopher/batch library, on a one-node cluster: min-duration 1s keeps every batch of a
/// spec open long enough for all of its operations to join it.</summary>
public sealed class BatchSpec(ITestOutputHelper output) : TapeSpecBase(output, """
    akka.write-behind.batches.types.tapes {
      min-duration = 1s
      max-duration = 10s
    }
    """)
{
    [Fact]
    public async Task Should_load_once_and_save_once_per_batch()
    {
        var runs = Enumerable.Range(0, 20).Select(i => RunAsync("one-batch", new Append($"e{i}"))).ToArray();

        var lengths = (await Task.WhenAll(runs).WaitAsync(AwaitTimeout)).Select(r => r.Length).Order().ToArray();

        Assert.Equal(Enumerable.Range(1, 20), lengths);
        Assert.Equal(1, Store.Loads("one-batch"));
        Assert.Equal(1, Store.Saves("one-batch"));
        Assert.Equal(20, Store.Stored("one-batch").Entries.Length);
        var metric = await NextMetricAsync("one-batch");
        Assert.Equal(20, metric.OperationCount);
        Assert.Null(metric.Error);
    }

    [Fact]
    public async Task Should_run_the_operations_of_one_key_in_arrival_order()
    {
        var probe = CreateTestProbe();
        var ids = Enumerable.Range(0, 200).Select(_ => Guid.NewGuid()).ToArray();
        for (var i = 0; i < ids.Length; i++)
            Processor.ShardRegion.Tell(new RunOperation("ordered", ids[i], new Append($"e{i}"), DateTime.UtcNow.AddMinutes(1)), probe);

        var replies = new Dictionary<Guid, IOperationReply>();
        for (var i = 0; i < ids.Length; i++)
        {
            var reply = await probe.ExpectMsgAsync<IOperationReply>(AwaitTimeout);
            replies[reply.OperationId] = reply;
        }

        // the i-th operation sent ran i-th: its result is the tape's length after it
        for (var i = 0; i < ids.Length; i++)
            Assert.Equal(new TapeLength(i + 1), Assert.IsType<OperationSucceeded>(replies[ids[i]]).Result);
        Assert.Equal(Enumerable.Range(0, 200).Select(i => $"e{i}"), Store.Entries("ordered"));
        Assert.Equal(1, Store.MaxOverlap);
    }

    [Fact]
    public async Task Should_run_different_keys_in_parallel()
    {
        var slow = await RunHeldAsync("slow", new Append("s"));

        // "slow" cannot finish its load; "fast" runs its whole batch meanwhile
        Assert.Equal(new TapeLength(1), await RunAsync("fast", new Append("f")).WaitAsync(AwaitTimeout));
        Assert.False(slow.IsCompleted);

        Store.OpenGates();
        Assert.Equal(new TapeLength(1), await slow.WaitAsync(AwaitTimeout));
    }

    [Fact]
    public async Task Should_answer_every_operation_of_the_batch_with_the_load_error()
    {
        Store.FailNextLoads(1);
        var runs = Enumerable.Range(0, 5).Select(i => RunAsync("load-error", new Append($"e{i}"))).ToArray();

        foreach (var run in runs)
        {
            var failure = await FailureOf(run);
            Assert.Equal(ErrorCode.StoreFailure, failure.Code);
            Assert.False(failure.IsRejection);
            Assert.Contains("injected load failure", failure.Message);
        }

        var metric = await NextMetricAsync("load-error");
        Assert.Equal(ErrorCode.StoreFailure, metric.Error);
        Assert.Equal(5, metric.OperationCount);
        Assert.Equal(1, Store.Loads("load-error"));
        Assert.Equal(0, Store.Saves("load-error"));

        // the next batch loads again and works
        Assert.Equal(new TapeLength(1), await RunAsync("load-error", new Append("after")).WaitAsync(AwaitTimeout));
        Assert.Equal(2, Store.Loads("load-error"));
    }

    [Fact]
    public async Task Should_answer_every_operation_of_the_batch_with_the_save_error_and_keep_nothing()
    {
        Assert.Equal(new TapeLength(1), await RunAsync("save-error", new Append("kept")).WaitAsync(AwaitTimeout));
        await NextMetricAsync("save-error");

        Store.FailNextSaves(1);
        var runs = Enumerable.Range(0, 5).Select(i => RunAsync("save-error", new Append($"lost{i}"))).ToArray();
        var rejected = RunAsync("save-error", new Refuse("no"));
        foreach (var run in runs.Append(rejected))
        {
            var failure = await FailureOf(run);
            Assert.Equal(ErrorCode.StoreFailure, failure.Code);
            Assert.Contains("injected save failure", failure.Message);
        }

        var metric = await NextMetricAsync("save-error");
        Assert.Equal(ErrorCode.StoreFailure, metric.Error);
        Assert.Equal(6, metric.OperationCount);

        // nothing of the failed batch is kept: the next batch starts from the stored tape
        Assert.Equal(new TapeLength(2), await RunAsync("save-error", new Append("next")).WaitAsync(AwaitTimeout));
        Assert.Equal(["kept", "next"], Store.Entries("save-error"));
    }

    [Fact]
    public async Task Should_not_run_an_operation_cancelled_before_it_ran()
    {
        var first = await RunHeldAsync("cancel", new Append("first"));
        using var cancel = new CancellationTokenSource();
        var cancelled = RunAsync("cancel", new Append("cancelled"), cancel.Token);

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.WaitAsync(AwaitTimeout));
        Store.OpenGates();
        Assert.Equal(new TapeLength(1), await first.WaitAsync(AwaitTimeout));
        Assert.Equal(["first"], Store.Entries("cancel"));
    }

    [Fact]
    public async Task Should_not_run_an_operation_whose_deadline_passed_before_it_ran()
    {
        var first = await RunHeldAsync("deadline", new Append("first"));
        var probe = CreateTestProbe();
        var id = Guid.NewGuid();
        Processor.ShardRegion.Tell(new RunOperation("deadline", id, new Append("late"), DateTime.UtcNow.AddSeconds(-1)), probe);

        Store.OpenGates();

        var reply = await probe.ExpectMsgAsync<OperationFailed>(AwaitTimeout);
        Assert.Equal(id, reply.OperationId);
        Assert.Equal(ErrorCode.Cancelled, reply.Code);
        Assert.Equal(new TapeLength(1), await first.WaitAsync(AwaitTimeout));
        Assert.Equal(["first"], Store.Entries("deadline"));
    }

    [Fact]
    public async Task Should_keep_the_batch_open_for_min_duration()
    {
        var first = RunAsync("min", new Append("a"));
        await Eventually.TrueAsync(() => Store.Loads("min") == 1, AwaitTimeout, "the batch's load");
        var second = RunAsync("min", new Append("b"));

        await Task.WhenAll(first, second).WaitAsync(AwaitTimeout);

        var metric = await NextMetricAsync("min");
        Assert.Equal(2, metric.OperationCount);
        Assert.True(metric.TotalDuration >= TimeSpan.FromSeconds(1), $"batch closed after {metric.TotalDuration}");
        Assert.Equal(1, Store.Saves("min"));
    }

    [Fact]
    public async Task Should_put_operations_arriving_during_a_save_into_the_next_batch()
    {
        var first = await RunHeldAsync("during-save", new Append("a"), holdSave: true);
        var second = RunAsync("during-save", new Append("b"));

        Store.OpenGates();

        Assert.Equal(new TapeLength(1), await first.WaitAsync(AwaitTimeout));
        Assert.Equal(new TapeLength(2), await second.WaitAsync(AwaitTimeout));
        Assert.Equal(1, (await NextMetricAsync("during-save")).OperationCount);
        Assert.Equal(1, (await NextMetricAsync("during-save")).OperationCount);
        Assert.Equal(2, Store.Saves("during-save"));
        Assert.Equal(2, Store.Loads("during-save"));
    }

    [Fact]
    public async Task Should_leave_the_resource_unchanged_on_rejection()
    {
        var append = RunAsync("reject", new Append("a"));
        var refused = RunAsync("reject", new Refuse("not today"));
        var read = RunAsync("reject", new ReadTape());

        Assert.Equal(new TapeLength(1), await append.WaitAsync(AwaitTimeout));
        var failure = await FailureOf(refused);
        Assert.True(failure.IsRejection);
        Assert.Equal(ErrorCode.Rejected, failure.Code);
        Assert.Equal("not today", failure.Message);
        Assert.Equal(new TapeLength(1), await read.WaitAsync(AwaitTimeout));
        Assert.Equal(["a"], Store.Entries("reject"));

        // a batch of rejections and reads only changes nothing, so it saves nothing
        await NextMetricAsync("reject");
        await Assert.ThrowsAsync<BatchOperationException>(() => RunAsync("reject", new Refuse("again")).WaitAsync(AwaitTimeout));
        Assert.Equal(new TapeLength(1), await RunAsync("reject", new ReadTape()).WaitAsync(AwaitTimeout));
        Assert.Equal(1, Store.Saves("reject"));
    }

    [Fact]
    public async Task Should_refuse_an_invalid_key_without_sending_anything()
    {
        var failure = await FailureOf(RunAsync("bad\u0001key", new Append("a")));
        Assert.Equal(ErrorCode.InvalidKey, failure.Code);
        failure = await FailureOf(RunAsync("", new Append("a")));
        Assert.Equal(ErrorCode.InvalidKey, failure.Code);
    }
}
