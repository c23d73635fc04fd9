using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using Akka.WriteBehind.Hosting;
using Akka.WriteBehind.Refresh;
using Akka.WriteBehind.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Akka.WriteBehind.Tests.Hosting;

/// <summary>Keyed refresh caches: two on one actor system and SQLite file stay apart; a proxy node reaches the items of another.</summary>
public sealed class RefreshSetKeysSpec : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly List<IHost> _hosts = new();

    private sealed class Jobs;

    private sealed class Sessions;

    [Fact]
    public async Task Should_keep_two_keyed_caches_apart_in_their_own_tables()
    {
        using var dir = new TempDirectory();
        var host = await StartAsync(CounterSetKeysSpec.Host("refresh-set-keys", builder => builder
            .AddHocon($"akka.write-behind.storage.sqlite.data-dir = \"{dir.Path.Replace("\\", "/")}\"", HoconAddMode.Prepend)
            .WithWriteBehindRefresh<Jobs>(o => (o.TypeName, o.SyncOnCreate) = ("jobs", false))
            .WithWriteBehindRefresh<Sessions>(o => (o.TypeName, o.SyncOnCreate, o.NumberOfShards) = ("sessions", false, 7))));
        var system = System(host);
        var jobs = await host.Services.GetRequiredService<IRequiredActor<Jobs>>().GetAsync();
        var sessions = await host.Services.GetRequiredService<IRequiredActor<Sessions>>().GetAsync();
        Assert.Same(jobs, RefreshSets.Get(system).Get<Jobs>().Region);
        Assert.Equal("sessions", RefreshSets.Get(system).Get<Sessions>().Settings.TypeName);
        Assert.Equal(7, RefreshSets.Get(system).Get<Sessions>().Settings.NumberOfShards);

        Assert.IsType<RefreshItemReply>(await jobs.Ask<IRefreshReply>(new PutItem(new RefreshItem("a", "job")), Timeout));
        Assert.IsType<RefreshItemReply>(await sessions.Ask<IRefreshReply>(new PutItem(new RefreshItem("b", "session")), Timeout));

        // an item of one cache is not one of the other
        Assert.Equal(ErrorCode.NotFound, Assert.IsType<RefreshRejected>(await sessions.Ask<IRefreshReply>(new GetItem("a"), Timeout)).Code);
        Assert.Equal(ErrorCode.NotFound, Assert.IsType<RefreshRejected>(await jobs.Ask<IRefreshReply>(new GetItem("b"), Timeout)).Code);

        // each cache keeps its items in its own table of the one file
        Assert.Equal("job", (await Table(dir, "refresh_items_jobs").LoadAsync("a"))?.State);
        Assert.Null(await Table(dir, "refresh_items_jobs").LoadAsync("b"));
        Assert.Equal("session", (await Table(dir, "refresh_items_sessions").LoadAsync("b"))?.State);
    }

    [Fact]
    public async Task Should_refuse_a_second_cache_under_the_same_key()
    {
        using var dir = new TempDirectory();
        var host = CounterSetKeysSpec.Host("refresh-set-same-key", builder => builder
            .WithWriteBehindRefresh<Jobs>(o => (o.TypeName, o.Store) = ("jobs", SqliteRefreshItemStore.ForDirectory(dir.Path)))
            .WithWriteBehindRefresh<Jobs>(o => (o.TypeName, o.Store) = ("jobs-2", SqliteRefreshItemStore.ForDirectory(dir.Path))));
        _hosts.Add(host);

        var error = await Assert.ThrowsAsync<DuplicateSetException>(() => host.StartAsync());
        Assert.Equal(typeof(Jobs), error.Key);
        Assert.Equal("jobs-2", error.TypeName);
    }

    [Fact]
    public async Task Should_serve_the_items_of_the_node_with_the_role_through_a_proxy_node()
    {
        using var dir = new TempDirectory();
        var store = SqliteRefreshItemStore.ForDirectory(dir.Path);
        var a = await StartAsync(CounterSetKeysSpec.Host("refresh-roles", builder => builder
            .WithWriteBehindRefresh<Jobs>(o => (o.TypeName, o.Role, o.Store, o.SyncOnCreate) = ("jobs", "refresh", store, false)), "refresh"));
        var b = await StartAsync(CounterSetKeysSpec.Host("refresh-roles", builder => builder
            .WithWriteBehindRefreshProxy<Jobs>("jobs", "refresh")), join: Cluster.Cluster.Get(System(a)).SelfAddress);
        await Eventually.TrueAsync(() => Cluster.Cluster.Get(System(a)).State.Members.Count(m => m.Status == MemberStatus.Up) == 2,
            Timeout, "two nodes Up");

        var proxy = await b.Services.GetRequiredService<IRequiredActor<Jobs>>().GetAsync();
        Assert.Equal(ActorRefs.Nobody, RefreshSets.Get(System(b)).Get<Jobs>().Supervisor);
        for (var i = 0; i < 10; i++)
            Assert.IsType<RefreshItemReply>(await proxy.Ask<IRefreshReply>(new PutItem(new RefreshItem($"j{i}", $"s{i}")), Timeout));
        Assert.Equal(new RefreshItem("j3", "s3"), Assert.IsType<RefreshItemReply>(await proxy.Ask<IRefreshReply>(new GetItem("j3"), Timeout)).Item);
        // validation happens on the proxy node too
        Assert.Equal(ErrorCode.InvalidKey, Assert.IsType<RefreshRejected>(await proxy.Ask<IRefreshReply>(new GetItem(""), Timeout)).Code);

        // stored by A, whose region holds every item
        Assert.Equal("s9", (await store.LoadAsync("j9"))?.State);
        var onA = RefreshSets.Get(System(a)).Get<Jobs>().ShardRegion;
        var state = await onA.Ask<CurrentShardRegionState>(GetShardRegionState.Instance, Timeout);
        Assert.Equal(10, state.Shards.Sum(s => s.EntityIds.Count));
        var regions = await RefreshSets.Get(System(b)).Get<Jobs>().ShardRegion.Ask<CurrentRegions>(GetCurrentRegions.Instance, Timeout);
        Assert.DoesNotContain(Cluster.Cluster.Get(System(b)).SelfAddress, regions.Regions);
    }

    private async Task<IHost> StartAsync(IHost host, Address? join = null)
    {
        _hosts.Add(host);
        await host.StartAsync();
        var cluster = Cluster.Cluster.Get(System(host));
        await cluster.JoinAsync(join ?? cluster.SelfAddress).WaitAsync(Timeout);
        return host;
    }

    private static SqliteRefreshItemStore Table(TempDirectory dir, string table) => new($"Data Source={dir.DatabaseFile}", table);

    private static ActorSystem System(IHost host) => host.Services.GetRequiredService<ActorSystem>();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        for (var i = _hosts.Count - 1; i >= 0; i--)
        {
            await _hosts[i].StopAsync();
            _hosts[i].Dispose();
        }
    }
}
