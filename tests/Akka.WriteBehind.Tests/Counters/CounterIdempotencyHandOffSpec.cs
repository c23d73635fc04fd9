using Akka.Actor;
using Akka.WriteBehind.Counters;
using Akka.WriteBehind.Tests.Support;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Counters;

/// <summary>
/// Two nodes on one SQLite file: increments with request ids land on counters living on the node that then leaves; its
/// counters flush and hand off, and the repeats sent afterwards reach new counters on the other node that never saw the
/// ids. Every repeat is answered as the first and none is counted again.
/// </summary>
public sealed class CounterIdempotencyHandOffSpec(ITestOutputHelper output) : IAsyncLifetime
{
    private const string SystemName = "idempotency-hand-off";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(15);
    private readonly SqliteTestDatabase _database = new();
    private readonly List<ActorSystem> _systems = new();

    [Fact]
    public async Task Should_not_count_a_repeat_again_after_its_counter_was_handed_off()
    {
        var nodes = await TwoNodeCluster.StartAsync(SystemName, TestConfig.Cluster("akka.write-behind.counters.flush-interval = 1h"), Timeout);
        _systems.AddRange(nodes);
        var counters = await Task.WhenAll(nodes.Select(n => WriteBehindCounters.StartAsync(n, _database.CreateStore()))).WaitAsync(Timeout);
        await CounterRegions.AwaitRegionsAsync(counters[0], 2, Timeout);

        const int keys = 60;
        var first = await Task.WhenAll(Enumerable.Range(0, keys).Select(i => counters[0].IncrementAsync($"h-{i}", i + 1, $"req-{i}")));
        Assert.All(first, r => Assert.IsType<IncrementAccepted>(r));
        var onLeaving = await CounterRegions.EntitiesAsync(counters[1]);
        output.WriteLine($"counters on the node that leaves: {onLeaving} of {keys}");
        Assert.True(onLeaving > 0, "the node that leaves must host counters, else its hand-off proves nothing");

        // node 1 leaves: its counters flush (recording their request ids with the rows) and stop; nothing was flushed before
        Assert.Empty(await _database.ReadCountersAsync());
        await CoordinatedShutdown.Get(nodes[1]).Run(CoordinatedShutdown.ClusterLeavingReason.Instance).WaitAsync(Timeout);
        await nodes[1].WhenTerminated.WaitAsync(Timeout);

        // every request again, through the node that stays: answered as the first, and no key counts it twice
        var repeats = await Task.WhenAll(Enumerable.Range(0, keys).Select(i => counters[0].IncrementAsync($"h-{i}", i + 1, $"req-{i}")));
        Assert.Equal(first, repeats);
        for (var i = 0; i < keys; i++)
            Assert.Equal(new CounterFlushed($"h-{i}", i + 1), await counters[0].Region.Ask<ICounterReply>(new FlushCounter($"h-{i}"), AskTimeout));
        Assert.Equal(Enumerable.Range(0, keys).ToDictionary(i => $"h-{i}", i => (long)i + 1), await _database.ReadCountersAsync());
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => ClusterNodes.StopAsync(_systems, _database, Timeout);
}
