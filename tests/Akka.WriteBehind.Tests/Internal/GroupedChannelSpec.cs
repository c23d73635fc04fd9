using System.Collections.Concurrent;
using System.Threading.Channels;
using Akka.Streams;
using Akka.WriteBehind.Internal;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Internal;

/// <summary>
/// The pipeline groups what arrives while its slots are busy, and those items go as soon as a slot is free; only an item
/// that finds a slot free waits (up to the delay) for others.
/// </summary>
public sealed class GroupedChannelSpec(ITestOutputHelper output) : Akka.TestKit.Xunit2.TestKit(output: output)
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(10);

    private readonly ConcurrentQueue<int[]> _groups = new();
    private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private async Task<Done> HandleAsync(int[] group)
    {
        _groups.Enqueue(group);
        if (_groups.Count == 1)
            await _gate.Task;
        return Done.Instance;
    }

    private Channel<int> Start(int batchSize, TimeSpan delay = default)
    {
        var channel = Channel.CreateBounded<int>(100);
        GroupedChannel.Run(channel.Reader, Sys.Materializer(), TestActor, batchSize, delay, parallelism: 1, HandleAsync, "spec");
        return channel;
    }

    [Fact]
    public async Task Should_send_a_lone_item_at_once_and_group_what_arrives_while_busy()
    {
        var channel = Start(batchSize: 100);

        Assert.True(channel.Writer.TryWrite(1));
        await AwaitConditionAsync(() => Task.FromResult(_groups.Count == 1), Generous);
        for (var i = 2; i <= 10; i++)
            Assert.True(channel.Writer.TryWrite(i));
        _gate.SetResult();

        await AwaitConditionAsync(() => Task.FromResult(_groups.Count == 2), Generous);
        Assert.Equal([[1], [2, 3, 4, 5, 6, 7, 8, 9, 10]], _groups.ToArray());
    }

    [Fact]
    public async Task Should_keep_each_group_within_its_size()
    {
        var channel = Start(batchSize: 4);

        Assert.True(channel.Writer.TryWrite(1));
        await AwaitConditionAsync(() => Task.FromResult(_groups.Count == 1), Generous);
        for (var i = 2; i <= 10; i++)
            Assert.True(channel.Writer.TryWrite(i));
        _gate.SetResult();

        await AwaitConditionAsync(() => Task.FromResult(_groups.Sum(g => g.Length) == 10), Generous);
        Assert.All(_groups, group => Assert.InRange(group.Length, 1, 4));
        Assert.Equal(Enumerable.Range(1, 10), _groups.SelectMany(g => g));
    }

    [Fact]
    public async Task Should_send_what_queued_while_busy_without_waiting_for_the_delay()
    {
        var channel = Start(batchSize: 2, delay: TimeSpan.FromHours(1));

        Assert.True(channel.Writer.TryWrite(1));
        Assert.True(channel.Writer.TryWrite(2));
        await AwaitConditionAsync(() => Task.FromResult(_groups.Count == 1), Generous); // full: no wait for the delay
        Assert.True(channel.Writer.TryWrite(3));
        _gate.SetResult();

        // it queued while the only slot was busy: it goes when the slot is free, not an hour later
        await AwaitConditionAsync(() => Task.FromResult(_groups.Count == 2), Generous);
        Assert.Equal([[1, 2], [3]], _groups.ToArray());
    }

    [Fact]
    public async Task Should_hold_a_lone_item_for_the_delay_so_others_join_it()
    {
        var channel = Start(batchSize: 100, delay: TimeSpan.FromSeconds(2));

        Assert.True(channel.Writer.TryWrite(1));
        Assert.True(channel.Writer.TryWrite(2));
        Assert.True(channel.Writer.TryWrite(3));
        _gate.SetResult();

        await AwaitConditionAsync(() => Task.FromResult(_groups.Count == 1), Generous);
        Assert.Equal([[1, 2, 3]], _groups.ToArray());
    }

    [Fact]
    public async Task Should_hold_a_window_longer_than_a_timer_can_wait()
    {
        var channel = Start(batchSize: 2, delay: TimeSpan.FromDays(100));

        Assert.True(channel.Writer.TryWrite(1));
        await ExpectNoMsgAsync(TimeSpan.FromMilliseconds(300)); // the pipeline did not fail (its owner would hear it)
        Assert.True(channel.Writer.TryWrite(2));

        await AwaitConditionAsync(() => Task.FromResult(_groups.Count == 1), Generous);
        Assert.Equal([[1, 2]], _groups.ToArray());
    }
}
