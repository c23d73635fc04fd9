using Akka.Actor;
using Akka.Hosting;
using Akka.WriteBehind.Hosting;
using Akka.WriteBehind.Refresh;
using Akka.WriteBehind.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using static Akka.WriteBehind.Tests.Support.ClusterHosts;

namespace Akka.WriteBehind.Tests.Hosting;

/// <summary>
/// Keyed refresh caches: two on one actor system and SQLite file stay apart; a proxy node reaches the items of another.
/// </summary>
public sealed class RefreshSetKeysSpec : IAsyncLifetime
{
    private readonly ClusterHosts _cluster = new();

    private sealed class Jobs;

    private sealed class Sessions;

    [Fact]
    public async Task Should_keep_two_keyed_caches_apart_in_their_own_tables()
    {
        using var dir = new TempDirectory();
        var host = await _cluster.StartAsync(Build("refresh-set-keys", builder => builder
            .AddHocon($"akka.write-behind.storage.sqlite.data-dir = \"{dir.Path.Replace("\\", "/")}\"", HoconAddMode.Prepend)
            .WithWriteBehindRefresh<Jobs>(o => (o.TypeName, o.SyncOnCreate) = ("jobs", false))
            .WithWriteBehindRefresh<Sessions>(o => (o.TypeName, o.SyncOnCreate, o.NumberOfShards) = ("sessions", false, 7))));
        var system = SystemOf(host);
        var jobs = await host.Services.GetRequiredService<IRequiredActor<Jobs>>().GetAsync();
        var sessions = await host.Services.GetRequiredService<IRequiredActor<Sessions>>().GetAsync();
        Assert.Same(jobs, RefreshSets.Get(system).Get<Jobs>().Region);
        Assert.Equal("sessions", RefreshSets.Get(system).Get<Sessions>().Settings.TypeName);
        Assert.Equal(7, RefreshSets.Get(system).Get<Sessions>().Settings.NumberOfShards);

        Assert.IsType<RefreshItemReply>(await jobs.Ask<IRefreshReply>(new PutItem(new RefreshItem("a", "job")), Patience));
        Assert.IsType<RefreshItemReply>(await sessions.Ask<IRefreshReply>(new PutItem(new RefreshItem("b", "session")), Patience));

        // an item of one cache is not one of the other
        Assert.Equal(ErrorCode.NotFound, Refused(await sessions.Ask<IRefreshReply>(new GetItem("a"), Patience)));
        Assert.Equal(ErrorCode.NotFound, Refused(await jobs.Ask<IRefreshReply>(new GetItem("b"), Patience)));

        // each cache keeps its items in its own table of the one file
        Assert.Equal("job", (await Table(dir, "refresh_items_jobs").LoadAsync("a"))?.State);
        Assert.Null(await Table(dir, "refresh_items_jobs").LoadAsync("b"));
        Assert.Equal("session", (await Table(dir, "refresh_items_sessions").LoadAsync("b"))?.State);
    }

    [Fact]
    public async Task Should_refuse_a_second_cache_under_the_same_key()
    {
        using var dir = new TempDirectory();
        var host = _cluster.Add(Build("refresh-set-same-key", builder => builder
            .WithWriteBehindRefresh<Jobs>(o => (o.TypeName, o.Store) = ("jobs", SqliteRefreshItemStore.ForDirectory(dir.Path)))
            .WithWriteBehindRefresh<Jobs>(o => (o.TypeName, o.Store) = ("jobs-2", SqliteRefreshItemStore.ForDirectory(dir.Path)))));

        var error = await Assert.ThrowsAsync<DuplicateSetException>(() => host.StartAsync());
        Assert.Equal(typeof(Jobs), error.Key);
        Assert.Equal("jobs-2", error.TypeName);
    }

    [Fact]
    public async Task Should_serve_the_items_of_the_node_with_the_role_through_a_proxy_node()
    {
        using var dir = new TempDirectory();
        var store = SqliteRefreshItemStore.ForDirectory(dir.Path);
        var (a, b) = await _cluster.StartTwoAsync(
            Build("refresh-roles", builder => builder.WithWriteBehindRefresh<Jobs>(o =>
                (o.TypeName, o.Role, o.Store, o.SyncOnCreate) = ("jobs", "refresh", store, false)), "refresh"),
            Build("refresh-roles", builder => builder.WithWriteBehindRefreshProxy<Jobs>("jobs", "refresh")));

        var proxy = await b.Services.GetRequiredService<IRequiredActor<Jobs>>().GetAsync();
        Assert.Equal(ActorRefs.Nobody, RefreshSets.Get(SystemOf(b)).Get<Jobs>().Supervisor);
        for (var i = 0; i < 10; i++)
            Assert.IsType<RefreshItemReply>(await proxy.Ask<IRefreshReply>(new PutItem(new RefreshItem($"j{i}", $"s{i}")), Patience));
        var read = Assert.IsType<RefreshItemReply>(await proxy.Ask<IRefreshReply>(new GetItem("j3"), Patience));
        Assert.Equal(new RefreshItem("j3", "s3"), read.Item);
        // validation happens on the proxy node too
        Assert.Equal(ErrorCode.InvalidKey, Refused(await proxy.Ask<IRefreshReply>(new GetItem(""), Patience)));

        // stored by A, whose region holds every item
        Assert.Equal("s9", (await store.LoadAsync("j9"))?.State);
        Assert.Equal(10, await EntitiesAsync(RefreshSets.Get(SystemOf(a)).Get<Jobs>().ShardRegion));
        var regions = await RegionsAsync(RefreshSets.Get(SystemOf(b)).Get<Jobs>().ShardRegion);
        Assert.DoesNotContain(Cluster.Cluster.Get(SystemOf(b)).SelfAddress, regions);
    }

    private static ErrorCode Refused(IRefreshReply reply) => Assert.IsType<RefreshRejected>(reply).Code;

    private static SqliteRefreshItemStore Table(TempDirectory dir, string table) => new($"Data Source={dir.DatabaseFile}", table);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _cluster.DisposeAsync();
}
