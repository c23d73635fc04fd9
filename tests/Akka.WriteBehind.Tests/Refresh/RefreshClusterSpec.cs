using Akka.Actor;
using Akka.Cluster;
using Akka.WriteBehind.Refresh;
using Akka.WriteBehind.Tests.Support;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Refresh;

/// <summary>
/// Two ActorSystems on 127.0.0.1 forming one cluster on one SQLite file, tps-scope = cluster: the budget is shared, and
/// items keep refreshing on the survivor after their node leaves.
/// </summary>
public sealed class RefreshClusterSpec(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Should_share_the_budget_and_keep_refreshing_items_after_hand_off_to_the_other_node()
    {
        using var dir = new TempDirectory();
        var config = TestConfig.Cluster(RefreshSpecBase.FastRefresh + "\nakka.write-behind.refresh { tps = 400, burst = 40, tps-scope = cluster }");
        var syncer = new FakeSyncer();
        var nodes = new[] { ActorSystem.Create("refresh-cluster", config), ActorSystem.Create("refresh-cluster", config) };
        var sets = new RefreshSet[2];
        try
        {
            await Cluster.Cluster.Get(nodes[0]).JoinAsync(Cluster.Cluster.Get(nodes[0]).SelfAddress);
            await Cluster.Cluster.Get(nodes[1]).JoinAsync(Cluster.Cluster.Get(nodes[0]).SelfAddress);
            await Eventually.TrueAsync(() => nodes.All(n => Cluster.Cluster.Get(n).State.Members.Count(m => m.Status == MemberStatus.Up) == 2),
                Timeout, "both nodes Up on both nodes");
            for (var i = 0; i < 2; i++)
                sets[i] = await WriteBehindRefresh.StartAsync(nodes[i], SqliteRefreshItemStore.ForDirectory(dir.Path), syncer.ForNode($"node{i}"));

            // the cluster budget is split between the two Up members
            foreach (var set in sets)
                await Eventually.TrueAsync(() => StateOf(set).Rate == new RefreshRate(200, 20), Timeout, "each node takes half of tps and burst");

            var ids = Enumerable.Range(1, 40).Select(i => $"c-{i}").ToArray();
            foreach (var id in ids)
                Assert.IsType<RefreshItemReply>(await sets[0].Region.Ask<IRefreshReply>(new GetOrCreateItem(new RefreshItem(id, "{}")), Timeout));
            await Eventually.TrueAsync(() => ids.All(id => syncer.Count(id) >= 2), Timeout, "every item refreshed");
            var onNode1 = syncer.Log.Where(e => e.Node == "node1").Select(e => e.Id).ToHashSet();
            Assert.NotEmpty(onNode1); // the items are spread over both nodes
            Assert.True(onNode1.Count < ids.Length, "node0 holds items too");

            // node1 leaves: its items are handed off, woken on node0 and refreshed there; node0 takes the whole budget
            await CoordinatedShutdown.Get(nodes[1]).Run(CoordinatedShutdown.ClrExitReason.Instance).WaitAsync(Timeout);
            var handedOff = onNode1.ToDictionary(id => id, syncer.Count);
            await Eventually.TrueAsync(() => handedOff.All(h => syncer.Log.Count(e => e.Id == h.Key && e.Node == "node0") >= 2),
                Timeout, "the handed-off items refreshed on node0");
            await Eventually.TrueAsync(() => StateOf(sets[0]).Rate == new RefreshRate(400, 40), Timeout, "node0 takes the whole budget");
            Assert.Equal(ids.Length, StateOf(sets[0]).Tracked.Count);
            Assert.Equal(1, syncer.MaxActivePerItem);
            output.WriteLine($"{onNode1.Count} of {ids.Length} items moved from node1 to node0");
        }
        finally
        {
            await Task.WhenAll(nodes.Select(n => n.Terminate())).WaitAsync(Timeout);
        }
    }

    private static RefreshSupervisorState StateOf(RefreshSet set) =>
        set.Supervisor.Ask<RefreshSupervisorState>(GetRefreshSupervisorState.Instance, TimeSpan.FromSeconds(10)).GetAwaiter().GetResult();
}
