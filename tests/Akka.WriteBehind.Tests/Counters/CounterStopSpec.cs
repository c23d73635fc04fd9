using Akka.Actor;
using Akka.Cluster;
using Akka.WriteBehind.Counters;
using Akka.WriteBehind.Tests.Support;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Counters;

public sealed class CounterPassivationSpec(ITestOutputHelper output) : CounterSpecBase(output, """
    akka.write-behind.counters.flush-interval = 1h
    akka.write-behind.counters.passivate-idle-after = 1s
    """)
{
    [Fact]
    public async Task Should_flush_before_an_idle_entity_is_passivated()
    {
        for (var i = 0; i < 10; i++)
            Assert.IsType<IncrementAccepted>(await AskAsync(new Increment($"idle-{i}", i + 1)));

        // the flush timer is an hour away: only the passivation stop can write these
        await AwaitAssertAsync(async () =>
        {
            for (var i = 0; i < 10; i++)
                Assert.Equal(i + 1, await StoredValueAsync($"idle-{i}"));
        }, AwaitTimeout);

        // a passivated counter comes back with its stored value
        Assert.Equal(new CounterValue("idle-3", 4, 0, 4), await AskAsync(new GetCounter("idle-3")));
    }
}

public sealed class CounterShutdownSpec(ITestOutputHelper output) : Akka.TestKit.Xunit2.TestKit(TestConfig.Cluster(), output: output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Should_flush_everything_on_coordinated_shutdown_and_serve_it_after_a_restart()
    {
        using var dir = new TempDirectory();
        var expected = new Dictionary<string, long>();

        // node 1: increments that no timer will flush (1h), then CoordinatedShutdown
        var node1 = await StartNodeAsync(dir, "akka.write-behind.counters.flush-interval = 1h");
        for (var i = 0; i < 2000; i++)
        {
            var key = $"sd-{i % 200}";
            node1.Counters.Region.Tell(new Increment(key, i));
            expected[key] = expected.GetValueOrDefault(key) + i;
        }

        // an Ask per key after the Tells: every increment is in its entity
        foreach (var key in expected.Keys)
            Assert.IsType<CounterValue>(await node1.Counters.Region.Ask<ICounterReply>(new GetCounter(key), Timeout));
        Assert.Empty(await SqliteTable.ReadAllAsync(dir.DatabaseFile));

        await CoordinatedShutdown.Get(node1.System).Run(CoordinatedShutdown.ClrExitReason.Instance);
        await node1.System.WhenTerminated.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(expected, await SqliteTable.ReadAllAsync(dir.DatabaseFile));

        // node 2 on the same SQLite file: the values are there
        var node2 = await StartNodeAsync(dir, "");
        try
        {
            foreach (var (key, total) in expected)
                Assert.Equal(new CounterValue(key, total, 0, total), await node2.Counters.Region.Ask<ICounterReply>(new GetCounter(key), Timeout));
        }
        finally
        {
            await node2.System.Terminate();
        }
    }

    private static async Task<(ActorSystem System, CounterSet Counters)> StartNodeAsync(TempDirectory dir, string config)
    {
        var system = ActorSystem.Create("shutdown-spec", TestConfig.Cluster(config));
        await Cluster.Cluster.Get(system).JoinAsync(Cluster.Cluster.Get(system).SelfAddress);
        var counters = await WriteBehindCounters.StartAsync(system, SqliteCounterStore.ForDirectory(dir.Path));
        return (system, counters);
    }
}
