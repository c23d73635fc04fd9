using Akka.WriteBehind.Queues;
using Akka.WriteBehind.Tests.Support;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Queues;

/// <summary>
/// Batch entities as a bounded queue: width (max-pending per key) and the node's depth (max-active-keys keys with queued
/// operations); queued operations run together in the next batch; work is accepted again once the queue drains.
/// </summary>
public sealed class BatchQueueSpec(ITestOutputHelper output) : TapeSpecBase(output, """
    akka.write-behind.batches.types.tapes { max-pending = 2, max-active-keys = 1 }
    """)
{
    [Fact]
    public async Task Should_refuse_at_width_and_depth_while_admitted_operations_complete()
    {
        // "k1" is loading its batch: its two operations are queued, which makes it the node's one active key
        var first = await RunHeldAsync("k1", new Append("a"));
        var second = RunAsync("k1", new Append("b"));

        var width = await FailureOf(RunAsync("k1", new Append("c")));
        Assert.Equal(ErrorCode.Saturated, width.Code);
        Assert.Equal(new QueueSaturated("tapes", "k1", QueueLimit.Width, 2, 2), width.Saturation);

        var depth = await FailureOf(RunAsync("k2", new Append("x")));
        Assert.Equal(ErrorCode.Saturated, depth.Code);
        Assert.Equal(new QueueSaturated("tapes", "k2", QueueLimit.Depth, 1, 1), depth.Saturation);
        Assert.False(first.IsCompleted || second.IsCompleted);

        Store.OpenGates();
        Assert.Equal(new TapeLength(1), await first.WaitAsync(AwaitTimeout));
        Assert.Equal(new TapeLength(2), await second.WaitAsync(AwaitTimeout));
        Assert.Equal(2, (await NextMetricAsync("k1")).OperationCount); // the queued set ran as one batch

        // drained: the other key and the full key take operations again
        await AwaitAssertAsync(() => Assert.Equal((0L, 0L), (Processor.Queues.ActiveKeys, Processor.Queues.Queued)), AwaitTimeout);
        Assert.Equal(new TapeLength(1), await RunAsync("k2", new Append("x")).WaitAsync(AwaitTimeout));
        Assert.Equal(new TapeLength(3), await RunAsync("k1", new Append("c")).WaitAsync(AwaitTimeout));
        Assert.Equal(["a", "b", "c"], Store.Entries("k1"));
        Assert.Equal(1, Processor.Queues.Saturations(QueueLimit.Width));
        Assert.Equal(1, Processor.Queues.Saturations(QueueLimit.Depth));
        Assert.Equal(1, Processor.Queues.PeakActiveKeys);
    }

    [Fact]
    public async Task Should_release_the_depth_when_a_queued_operation_is_cancelled()
    {
        using var cancel = new CancellationTokenSource();
        var held = await RunHeldAsync("c1", new Append("a"));
        var cancelled = RunAsync("c1", new Append("b"), cancel.Token);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.WaitAsync(AwaitTimeout));

        Store.OpenGates();
        Assert.Equal(new TapeLength(1), await held.WaitAsync(AwaitTimeout));
        await AwaitAssertAsync(() => Assert.Equal(0L, Processor.Queues.ActiveKeys), AwaitTimeout);
        Assert.Equal(new TapeLength(1), await RunAsync("c2", new Append("x")).WaitAsync(AwaitTimeout));
    }
}
