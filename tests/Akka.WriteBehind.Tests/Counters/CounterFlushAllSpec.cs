using Akka.Actor;
using Akka.Cluster;
using Akka.WriteBehind.Counters;
using Akka.WriteBehind.Tests.Support;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Counters;

/// <summary>
/// Flush-all on a two-node cluster sharing one SQLite file: keys whose entities live on both nodes, acknowledged increments
/// through node 0 and fire-and-forget increments still buffered in node 1's fast path. Nothing flushes on its own (the flush
/// interval is an hour, node 1's fast path drains hourly); one flush-all asked of node 0 stores every key of both nodes.
/// </summary>
public sealed class CounterFlushAllClusterSpec(ITestOutputHelper output) : IAsyncLifetime
{
    private const string SystemName = "flush-all";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly SqliteTestDatabase _database = new();
    private readonly List<ActorSystem> _systems = new();

    [Fact]
    public async Task Should_store_every_pending_key_of_every_node_when_one_node_is_asked()
    {
        var nodes = new[]
        {
            StartSystem(""),
            // node 1's fire-and-forget increments stay in its fast path until something drains them
            StartSystem("akka.write-behind.counters.ingest.aggregate-window = 1h"),
        };
        var clusters = nodes.Select(Akka.Cluster.Cluster.Get).ToArray();
        await clusters[0].JoinAsync(clusters[0].SelfAddress).WaitAsync(Timeout);
        await clusters[1].JoinAsync(clusters[0].SelfAddress).WaitAsync(Timeout);
        await Eventually.TrueAsync(() => clusters.All(c => c.State.Members.Count(m => m.Status == MemberStatus.Up) == 2), Timeout, "two nodes Up");
        var counters = await Task.WhenAll(nodes.Select(n => WriteBehindCounters.StartAsync(n, _database.CreateStore()))).WaitAsync(Timeout);
        await CounterRegions.AwaitRegionsAsync(counters[0], 2, Timeout);

        // acknowledged increments through node 0 on 60 keys (their entities spread over both nodes)
        var expected = new Dictionary<string, long>(StringComparer.Ordinal);
        for (var round = 1; round <= 3; round++)
        {
            var replies = await Task.WhenAll(Enumerable.Range(0, 60).Select(i => counters[0].IncrementAsync($"ack-{i}", round * (i + 1))));
            Assert.All(replies, r => Assert.IsType<IncrementAccepted>(r));
            for (var i = 0; i < 60; i++)
                expected[$"ack-{i}"] = expected.GetValueOrDefault($"ack-{i}") + round * (i + 1);
        }

        // fire-and-forget increments buffered in node 1's fast path, on keys of their own and on keys node 0 incremented
        for (var i = 0; i < 40; i++)
        {
            var key = i % 2 == 0 ? $"buffered-{i}" : $"ack-{i}";
            Assert.Equal(FastIncrementStatus.Buffered, counters[1].Increment(key, 1000 + i));
            expected[key] = expected.GetValueOrDefault(key) + 1000 + i;
        }

        var hosted = await Task.WhenAll(counters.Select(CounterRegions.EntitiesAsync));
        output.WriteLine($"entities per node: {string.Join(", ", hosted)}");
        Assert.True(hosted.All(h => h > 0), $"entities must live on both nodes, else one node's flush proves nothing: {string.Join(", ", hosted)}");
        Assert.Empty(await _database.ReadCountersAsync()); // nothing flushed on its own

        var reply = await counters[0].FlushAllAsync(TimeSpan.FromSeconds(30));

        var flushed = Assert.IsType<AllCountersFlushed>(reply);
        Assert.Equal(2, flushed.Nodes);
        Assert.True(flushed.Keys >= expected.Count, $"{flushed.Keys} keys flushed, {expected.Count} hold increments");
        Assert.Equal(expected, await _database.ReadCountersAsync());
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        try
        {
            await Task.WhenAll(_systems.Select(s => CoordinatedShutdown.Get(s).Run(CoordinatedShutdown.ClrExitReason.Instance))).WaitAsync(Timeout);
        }
        finally
        {
            _database.Dispose();
        }
    }

    private ActorSystem StartSystem(string overrides)
    {
        var system = ActorSystem.Create(SystemName, TestConfig.Cluster($$"""
            {{overrides}}
            akka.write-behind.counters.flush-interval = 1h
            """));
        _systems.Add(system);
        return system;
    }
}

/// <summary>Flush-all with journal durability: increments acknowledged once journaled are all in the table when it answers.</summary>
public sealed class CounterFlushAllJournalSpec(ITestOutputHelper output)
    : CounterSpecBase(output, "akka.write-behind.counters { durability = journal, flush-interval = 1h }")
{
    [Fact]
    public async Task Should_store_every_journaled_increment_before_answering()
    {
        var expected = new Dictionary<string, long>(StringComparer.Ordinal);
        var pending = new List<Task<ICounterReply>>();
        for (var i = 0; i < 2_000; i++)
        {
            var key = $"journal-{i % 200}";
            pending.Add(Counters.IncrementAsync(key, i + 1));
            expected[key] = expected.GetValueOrDefault(key) + i + 1;
        }

        Assert.All(await Task.WhenAll(pending), r => Assert.IsType<IncrementAccepted>(r));
        Assert.Empty(await Database.ReadCountersAsync());

        var flushed = Assert.IsType<AllCountersFlushed>(await Counters.FlushAllAsync());

        Assert.Equal(1, flushed.Nodes);
        Assert.Equal(expected.Count, flushed.Keys);
        Assert.Equal(expected, await Database.ReadCountersAsync());
        // nothing pending any more: the next flush-all has nothing to do
        Assert.Equal(new AllCountersFlushed(0, 1), await Counters.FlushAllAsync());
    }
}

/// <summary>A flush-all whose write fails says so with a store failure, keeps the delta, and a later one stores it.</summary>
public sealed class CounterFlushAllFailureSpec : CounterSpecBase
{
    public CounterFlushAllFailureSpec(ITestOutputHelper output) : base(output, "akka.write-behind.counters.flush-interval = 1h") =>
        Store = new FailingStore(Target, failures: 1);

    [Fact]
    public async Task Should_answer_store_failure_and_never_done_while_an_increment_is_unstored()
    {
        Assert.IsType<IncrementAccepted>(await Counters.IncrementAsync("flaky-all", 7));

        var failed = Assert.IsType<FlushAllFailed>(await Counters.FlushAllAsync());

        Assert.Equal(ErrorCode.StoreFailure, failed.Code);
        Assert.Contains("flaky-all", failed.Message);
        Assert.Equal(new AllCountersFlushed(1, 1), await Counters.FlushAllAsync());
        Assert.Equal(7, await StoredValueAsync("flaky-all"));
    }
}
