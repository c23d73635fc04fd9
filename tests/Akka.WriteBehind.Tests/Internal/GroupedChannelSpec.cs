using System.Collections.Concurrent;
using System.Threading.Channels;
using Akka.Streams;
using Akka.WriteBehind.Internal;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Internal;

/// <summary>
/// With no delay the pipeline groups only what arrives while its slots are busy: the first item of a quiet pipeline goes
/// out alone at once, and the items written while it is handled go out together next.
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

    private Channel<int> Start(int batchSize)
    {
        var channel = Channel.CreateBounded<int>(100);
        GroupedChannel.Run(channel.Reader, Sys.Materializer(), TestActor, batchSize, TimeSpan.Zero, parallelism: 1, HandleAsync, "spec");
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
        // drained from the channel means taken into the next group: the stages are fused
        await AwaitConditionAsync(() => Task.FromResult(channel.Reader.Count == 0), Generous);
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
}
