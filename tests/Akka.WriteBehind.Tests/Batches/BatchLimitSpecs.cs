using Akka.Actor;
using Akka.WriteBehind.Batches;
using Akka.WriteBehind.Tests.Support;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Batches;

/// <summary>max-operations closes a batch early: with min-duration 30s, only the cap can close these batches in time.</summary>
public sealed class BatchMaxOperationsSpec(ITestOutputHelper output) : TapeSpecBase(output, """
    akka.write-behind.batches.types.tapes {
      min-duration = 30s
      max-duration = 60s
      max-operations = 3
    }
    """)
{
    [Fact]
    public async Task Should_close_the_batch_early_when_max_operations_ran()
    {
        var runs = Enumerable.Range(0, 6).Select(i => RunAsync("capped", new Append($"e{i}"))).ToArray();

        var lengths = (await Task.WhenAll(runs).WaitAsync(AwaitTimeout)).Select(r => r.Length).ToArray();

        Assert.Equal([1, 2, 3, 4, 5, 6], lengths);
        Assert.Equal(3, (await NextMetricAsync("capped")).OperationCount);
        Assert.Equal(3, (await NextMetricAsync("capped")).OperationCount);
        Assert.Equal(2, Store.Saves("capped"));
    }
}

/// <summary>max-pending bounds what an entity queues while it cannot run operations.</summary>
public sealed class BatchMaxPendingSpec(ITestOutputHelper output) : TapeSpecBase(output, """
    akka.write-behind.batches.types.tapes.max-pending = 2
    """)
{
    [Fact]
    public async Task Should_refuse_operations_beyond_max_pending_with_saturated()
    {
        var first = await RunHeldAsync("busy", new Append("a"));
        var second = RunAsync("busy", new Append("b"));

        // the loading batch holds two waiting operations: the third is refused at once
        var failure = await FailureOf(RunAsync("busy", new Append("c")));
        Assert.Equal(ErrorCode.Saturated, failure.Code);
        Assert.False(first.IsCompleted);

        Store.OpenGates();
        Assert.Equal(new TapeLength(1), await first.WaitAsync(AwaitTimeout));
        Assert.Equal(new TapeLength(2), await second.WaitAsync(AwaitTimeout));
        Assert.Equal(["a", "b"], Store.Entries("busy"));
    }
}

/// <summary>max-duration is the deadline of load and save together: past it every caller is told the batch failed and nothing is kept.</summary>
public sealed class BatchMaxDurationSpec(ITestOutputHelper output) : TapeSpecBase(output, """
    akka.write-behind.batches.types.tapes {
      min-duration = 200ms
      max-duration = 1s
    }
    """)
{
    [Fact]
    public async Task Should_fail_the_batch_when_its_save_passes_max_duration()
    {
        Store.GateOnlyKey = "slow-save";
        Store.CloseSaveGate();
        var runs = Enumerable.Range(0, 3).Select(i => RunAsync("slow-save", new Append($"e{i}"))).ToArray();

        foreach (var run in runs)
            Assert.Equal(ErrorCode.Timeout, (await FailureOf(run)).Code);
        var metric = await NextMetricAsync("slow-save");
        Assert.Equal(ErrorCode.Timeout, metric.Error);
        Assert.True(metric.TotalDuration >= TimeSpan.FromMilliseconds(900), $"failed after {metric.TotalDuration}, before max-duration");

        // the store's token was cancelled at max-duration, so the save did not commit; the next batch starts from scratch
        Store.OpenGates();
        Assert.Equal(new TapeLength(1), await RunAsync("slow-save", new Append("next")).WaitAsync(AwaitTimeout));
        Assert.Equal(["next"], Store.Entries("slow-save"));
    }

    [Fact]
    public async Task Should_answer_with_the_stored_results_when_a_save_commits_after_max_duration()
    {
        // a store that ignores its token: the save commits a second after max-duration. Its callers must hear what was
        // stored, never Timeout "nothing of it was kept" (the benchmark found such a save in SQLite)
        Store.GateOnlyKey = "late-save";
        Store.IgnoreSaveCancellation = true;
        Store.CloseSaveGate();
        var runs = Enumerable.Range(0, 3).Select(i => RunAsync("late-save", new Append($"e{i}"))).ToArray();
        await GatedCallAsync("late-save");

        // the store returns 2 s after the save started, past max-duration (1 s from the batch's opening)
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.All(runs, run => Assert.False(run.IsCompleted, $"answered before the store returned: {run.Status}"));
        Store.OpenGates();

        var lengths = await Task.WhenAll(runs).WaitAsync(AwaitTimeout);
        Assert.Equal([new TapeLength(1), new TapeLength(2), new TapeLength(3)], lengths.OrderBy(l => l.Length));
        Assert.Equal(["e0", "e1", "e2"], Store.Entries("late-save").Order());
        Assert.Null((await NextMetricAsync("late-save")).Error);
    }

    [Fact]
    public async Task Should_fail_the_batch_when_its_load_passes_max_duration()
    {
        Store.GateOnlyKey = "slow-load";
        Store.CloseLoadGate();

        var failure = await FailureOf(RunAsync("slow-load", new Append("a")));

        Assert.Equal(ErrorCode.Timeout, failure.Code);
        Assert.Equal(ErrorCode.Timeout, (await NextMetricAsync("slow-load")).Error);
        Store.OpenGates();
        Assert.Equal(new TapeLength(1), await RunAsync("slow-load", new Append("b")).WaitAsync(AwaitTimeout));
        Assert.Equal(["b"], Store.Entries("slow-load"));
    }
}

/// <summary>keep-loaded holds the resource between batches and reloads it after a failed batch.</summary>
public sealed class BatchKeepLoadedSpec(ITestOutputHelper output) : TapeSpecBase(output, """
    akka.write-behind.batches.types.tapes.keep-loaded = on
    """)
{
    [Fact]
    public async Task Should_load_once_while_batches_succeed_and_reload_after_a_failure()
    {
        for (var i = 1; i <= 3; i++)
        {
            Assert.Equal(new TapeLength(i), await RunAsync("held", new Append($"e{i}")).WaitAsync(AwaitTimeout));
            var metric = await NextMetricAsync("held");
            if (i > 1)
                Assert.Equal(TimeSpan.Zero, metric.LoadDuration); // no load: the resource was held
        }

        Assert.Equal(1, Store.Loads("held"));
        Assert.Equal(3, Store.Saves("held"));

        Store.FailNextSaves(1);
        Assert.Equal(ErrorCode.StoreFailure, (await FailureOf(RunAsync("held", new Append("lost")))).Code);
        await NextMetricAsync("held");

        // the failed batch's change is gone: the entity reloaded the stored tape
        Assert.Equal(new TapeLength(4), await RunAsync("held", new Append("e4")).WaitAsync(AwaitTimeout));
        Assert.Equal(2, Store.Loads("held"));
        Assert.Equal(["e1", "e2", "e3", "e4"], Store.Entries("held"));
    }
}

/// <summary>
/// min-duration counts from a batch's first operation: an operation that waited while the previous batch saved does not
/// wait a whole min-duration more once that save is done. max-operations 2 closes the first batch at once; min-duration 5s
/// is far longer than the spec allows the second batch after the save returns.
/// </summary>
public sealed class BatchMinDurationFromArrivalSpec(ITestOutputHelper output) : TapeSpecBase(output, """
    akka.write-behind.batches.types.tapes {
      min-duration = 5s
      max-duration = 60s
      max-operations = 2
    }
    """)
{
    [Fact]
    public async Task Should_not_hold_an_operation_that_waited_through_a_save_for_another_whole_min_duration()
    {
        const string key = "arrived-early";
        Store.GateOnlyKey = key;
        Store.CloseSaveGate();
        var first = new[] { RunAsync(key, new Append("a1")), RunAsync(key, new Append("a2")) };
        await GatedCallAsync(key); // the first batch is full and saving
        var waiting = RunAsync(key, new Append("b"));

        // the operation under test waits through the save for longer than min-duration (the entity measures real time)
        await Task.Delay(TimeSpan.FromSeconds(6));
        var released = System.Diagnostics.Stopwatch.StartNew();
        Store.OpenGates();
        Assert.Equal([1, 2], (await Task.WhenAll(first).WaitAsync(AwaitTimeout)).Select(r => r.Length));

        // without counting from its arrival the second batch would stay open another 5 s
        Assert.Equal(3, (await waiting.WaitAsync(AwaitTimeout)).Length);
        Assert.True(released.Elapsed < TimeSpan.FromSeconds(3), $"answered {released.Elapsed} after the save returned");
        Assert.Equal(["a1", "a2", "b"], Store.Entries(key));
    }
}

/// <summary>
/// min-duration counts from the call (<see cref="RunOperation.CalledAt"/>, which <c>RunAsync</c> sets): an operation's wait on
/// its way is part of it, so a caller waits about min-duration and a save, not its trip to the entity plus a whole min-duration.
/// </summary>
public sealed class BatchMinDurationFromCallSpec(ITestOutputHelper output) : TapeSpecBase(output, """
    akka.write-behind.batches.types.tapes {
      min-duration = 20s
      max-duration = 60s
    }
    """)
{
    private static readonly TimeSpan WellBeforeMinDuration = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Should_close_at_once_a_batch_whose_operation_was_called_min_duration_ago()
    {
        var now = DateTime.UtcNow;
        var run = new RunOperation("waited", Guid.NewGuid(), new Append("a"), now.AddMinutes(1)) { CalledAt = now.AddSeconds(-20) };
        Processor.ShardRegion.Tell(run, TestActor);

        var answer = await ExpectMsgAsync<OperationSucceeded>(WellBeforeMinDuration);
        Assert.Equal(run.OperationId, answer.OperationId);
        Assert.Equal(["a"], Store.Entries("waited"));
    }

    [Fact]
    public async Task Should_count_a_groups_min_duration_from_the_call_of_its_first_operation()
    {
        var now = DateTime.UtcNow;
        var runs = new[]
        {
            new RunOperation("group", Guid.NewGuid(), new Append("a"), now.AddMinutes(1)) { CalledAt = now.AddSeconds(-19) },
            new RunOperation("group", Guid.NewGuid(), new Append("b"), now.AddMinutes(1)) { CalledAt = now },
        };
        Processor.ShardRegion.Tell(new RunOperations("group", runs) { GroupReplies = true }, TestActor);

        var answers = await ExpectMsgAsync<OperationReplies>(WellBeforeMinDuration);
        Assert.Equal(runs.Select(r => r.OperationId), answers.Replies.Select(r => r.OperationId));
        Assert.Equal(["a", "b"], Store.Entries("group"));
    }

    [Fact]
    public async Task Should_keep_a_batch_open_for_min_duration_when_its_operation_was_just_called_or_says_nothing()
    {
        // the controls: called now, and no call time at all (counted from its arrival)
        var now = DateTime.UtcNow;
        Processor.ShardRegion.Tell(new RunOperation("fresh", Guid.NewGuid(), new Append("a"), now.AddMinutes(1)) { CalledAt = now }, TestActor);
        Processor.ShardRegion.Tell(new RunOperation("unknown", Guid.NewGuid(), new Append("a"), now.AddMinutes(1)), TestActor);

        await ExpectNoMsgAsync(TimeSpan.FromSeconds(3));
        Assert.Empty(Store.Entries("fresh"));
        Assert.Empty(Store.Entries("unknown"));
    }
}
