using Akka.Actor;
using Akka.Cluster;
using Akka.WriteBehind.Refresh;
using Akka.WriteBehind.Tests.Support;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Refresh;

/// <summary>Items survive a restart of the node on the same SQLite file and are refreshed again without any caller.</summary>
public sealed class RefreshRestartSpec(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Should_resume_refreshing_stored_items_after_a_restart_without_a_caller()
    {
        using var dir = new TempDirectory();
        var config = TestConfig.Cluster(RefreshSpecBase.FastRefresh);
        var before = new FakeSyncer("first");
        before.Outcome = (item, n) => item.Id == "finished"
            ? SyncResult.Updated(new RefreshItem(item.Id, "{\"status\":\"done\",\"terminal\":true}", Terminal: true))
            : SyncResult.Updated(item with { State = $"{{\"run\":1,\"syncs\":{n}}}" });
        var ids = new[] { "r-1", "r-2", "r-3", "finished" };

        var first = ActorSystem.Create("refresh-restart", config);
        try
        {
            var refresh = await StartAsync(first, dir, before);
            foreach (var id in ids)
                Assert.IsType<RefreshItemReply>(await refresh.Region.Ask<IRefreshReply>(new GetOrCreateItem(new RefreshItem(id, "{}")), Timeout));
            await Eventually.TrueAsync(() => ids.All(id => before.Count(id) >= 1), Timeout, "every item synced once");
            var stored = SqliteRefreshItemStore.ForDirectory(dir.Path);
            for (var i = 0; !(await stored.LoadAsync("finished"))!.Terminal; i++)
            {
                Assert.True(i < 300, "finished stored as terminal");
                await Task.Delay(100);
            }
        }
        finally
        {
            await CoordinatedShutdown.Get(first).Run(CoordinatedShutdown.ClrExitReason.Instance).WaitAsync(Timeout);
        }

        // a new node on the same file; nobody sends it a command
        var after = new FakeSyncer("second");
        var second = ActorSystem.Create("refresh-restart", config);
        try
        {
            var refresh = await StartAsync(second, dir, after);

            await Eventually.TrueAsync(() => ids.Take(3).All(id => after.Count(id) >= 2), Timeout, "stored items refreshed after the restart");
            Assert.Equal(0, after.Count("finished")); // terminal: not woken, not refreshed
            var reply = Assert.IsType<RefreshItemReply>(await refresh.Region.Ask<IRefreshReply>(new GetItem("finished"), Timeout));
            Assert.True(reply.Item.Terminal);
            output.WriteLine($"after the restart: {string.Join(", ", ids.Select(id => $"{id}={after.Count(id)}"))}");
        }
        finally
        {
            await CoordinatedShutdown.Get(second).Run(CoordinatedShutdown.ClrExitReason.Instance).WaitAsync(Timeout);
        }
    }

    private static async Task<RefreshSet> StartAsync(ActorSystem system, TempDirectory dir, IItemSyncer syncer)
    {
        await Cluster.Cluster.Get(system).JoinAsync(Cluster.Cluster.Get(system).SelfAddress);
        return await WriteBehindRefresh.StartAsync(system, SqliteRefreshItemStore.ForDirectory(dir.Path), syncer);
    }
}
