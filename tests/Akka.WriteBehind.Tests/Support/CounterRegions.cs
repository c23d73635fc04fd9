using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.WriteBehind.Counters;

namespace Akka.WriteBehind.Tests.Support;

/// <summary>What multi-node counter specs ask a set's shard region: how many regions the coordinator knows, entities hosted.</summary>
internal static class CounterRegions
{
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(15);

    /// <summary>Waits until the coordinator knows <paramref name="regions"/> regions (it allocates shards only among those).</summary>
    public static async Task AwaitRegionsAsync(CounterSet counters, int regions, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var stats = await counters.ShardRegion.Ask<ClusterShardingStats>(new GetClusterShardingStats(TimeSpan.FromSeconds(5)), AskTimeout);
            if (stats.Regions.Count >= regions)
                return;
            Assert.True(DateTime.UtcNow < deadline, $"{regions} shard regions registered (now {stats.Regions.Count})");
            await Task.Delay(100);
        }
    }

    /// <summary>The entities the set's region hosts on its node.</summary>
    public static async Task<int> EntitiesAsync(CounterSet counters)
    {
        var state = await counters.ShardRegion.Ask<CurrentShardRegionState>(GetShardRegionState.Instance, AskTimeout);
        return state.Shards.Sum(s => s.EntityIds.Count);
    }
}
