using Akka.Configuration;
using Akka.WriteBehind.Refresh;
using Akka.WriteBehind.Tests.Support;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Refresh;

/// <summary>
/// The refresh wake-up on virtual time, alone over a real SQLite store with a probe for the shard region: it wakes a page of
/// stored non-terminal items at start and the next page every <c>wake-interval</c>, not before, continuing where the last
/// page stopped and starting over after the last one.
/// </summary>
public sealed class RefreshWakeIntervalSpec(ITestOutputHelper output) : VirtualTimeSpecBase("""
    akka.actor.provider = cluster
    akka.remote.dot-netty.tcp { hostname = "127.0.0.1", port = 0 }
    """, output)
{
    private static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);
    private readonly TempDirectory _dir = new();

    [Fact]
    public async Task Should_wake_the_next_page_of_items_each_wake_interval_and_not_before()
    {
        var settings = RefreshSettings.FromConfig(ConfigurationFactory.ParseString($"wake-interval = {Interval.TotalSeconds}s, wake-limit = 2")
            .WithFallback(WriteBehindConfig.DefaultConfig().GetConfig(RefreshSettings.ConfigPath)));
        var store = SqliteRefreshItemStore.ForDirectory(_dir.Path);
        await store.InitializeAsync();
        foreach (var id in new[] { "a", "b", "c" })
            await store.SaveAsync(new RefreshItem(id, "{}"));
        await store.SaveAsync(new RefreshItem("done", "{}", Terminal: true));
        var region = CreateTestProbe();

        Sys.ActorOf(RefreshWakeActor.Props(region.Ref, store, settings));
        Assert.Equal(["a", "b"], await WokenAsync(region, 2)); // at start

        Advance(Interval - Step);
        await region.ExpectNoMsgAsync(Quiet);
        Advance(Step);
        Assert.Equal(["c"], await WokenAsync(region, 1)); // where the last page stopped

        Advance(Interval);
        Assert.Equal(["a", "b"], await WokenAsync(region, 2)); // after the last page: from the start
    }

    protected override void AfterAll()
    {
        base.AfterAll();
        _dir.Dispose();
    }

    private async Task<string[]> WokenAsync(Akka.TestKit.TestProbe region, int count)
    {
        var ids = new string[count];
        for (var i = 0; i < count; i++)
            ids[i] = (await region.ExpectMsgAsync<WakeItem>(Timeout)).Key;
        await region.ExpectNoMsgAsync(Quiet);
        return ids.Order().ToArray();
    }
}
