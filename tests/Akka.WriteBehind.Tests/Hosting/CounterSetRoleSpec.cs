using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using Akka.WriteBehind.Counters;
using Akka.WriteBehind.Hosting;
using Akka.WriteBehind.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Akka.WriteBehind.Tests.Hosting;

/// <summary>
/// Two hosts in one cluster, a keyed counter set whose entities live on the members with the role "counters": node A has
/// the role, node B has not and reaches the set through a region that only routes (a set started there with the role,
/// or the proxy-only variant).
/// </summary>
public sealed class CounterSetRoleSpec : IAsyncLifetime
{
    private const string Role = "counters";
    private const string TypeName = "page-views";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private readonly InMemoryCounterStore _store = new();
    private readonly List<IHost> _hosts = new();

    private sealed class PageViews;

    [Fact]
    public async Task Should_send_increments_of_a_proxy_node_to_the_entities_on_the_node_with_the_role()
    {
        var (a, b) = await StartClusterAsync(builder => builder.WithWriteBehindCountersProxy<PageViews>(TypeName, Role));
        var proxy = await Required(b).GetAsync();
        var facade = CounterSets.Get(System(b)).Get<PageViews>();
        Assert.Same(proxy, facade.Region);

        // through B's entry point and through its fast path
        for (var i = 0; i < 20; i++)
            Assert.Equal(new IncrementAccepted($"k{i}", i + 1), await proxy.Ask<ICounterReply>(new Increment($"k{i}", i + 1), Timeout));
        Assert.IsType<IncrementAccepted>(await facade.IncrementAsync("fast", 3));
        Assert.Equal(FastIncrementStatus.Buffered, facade.Increment("fast", 4));

        // reads and flushes from B are answered by the entities on A, which store them
        Assert.Equal(new CounterFlushed("k3", 4), await proxy.Ask<ICounterReply>(new FlushCounter("k3"), Timeout));
        Assert.Equal(new CounterValue("k3", 4, 0, 4), await proxy.Ask<ICounterReply>(new GetCounter("k3"), Timeout));
        Assert.IsType<AllCountersFlushed>(await facade.FlushAllAsync(Timeout));
        var stored = _store.Snapshot();
        for (var i = 0; i < 20; i++)
            Assert.Equal(i + 1, stored[$"k{i}"]);
        Assert.Equal(7, stored["fast"]);

        // every entity lives on A; B is no region of the set
        Assert.Equal(21, await CounterRegions.EntitiesAsync(CounterSets.Get(System(a)).Get<PageViews>()));
        var regions = await RegionsAsync(facade.ShardRegion);
        Assert.DoesNotContain(Cluster.Cluster.Get(System(b)).SelfAddress, regions);
    }

    [Fact]
    public async Task Should_host_no_entity_of_the_set_on_a_node_without_the_role()
    {
        var (a, b) = await StartClusterAsync(builder => builder.WithWriteBehindCounters<PageViews>(o =>
        {
            o.TypeName = TypeName;
            o.Role = Role;
            o.Store = _store;
            o.FlushInterval = TimeSpan.FromHours(1);
        }));
        var onB = CounterSets.Get(System(b)).Get<PageViews>();

        // B's region answers once it is known to the coordinator: it would be counted as a region by now if it hosted
        var regions = await RegionsAsync(onB.ShardRegion);
        Assert.Single(regions);
        Assert.DoesNotContain(Cluster.Cluster.Get(System(b)).SelfAddress, regions);

        var region = await Required(b).GetAsync();
        for (var i = 0; i < 30; i++)
            Assert.Equal(new IncrementAccepted($"k{i}", 1), await region.Ask<ICounterReply>(new Increment($"k{i}", 1), Timeout));
        Assert.IsType<AllCountersFlushed>(await onB.FlushAllAsync(Timeout));
        Assert.Equal(30, _store.Snapshot().Count);

        Assert.Equal(0, await CounterRegions.EntitiesAsync(onB));
        Assert.Equal(30, await CounterRegions.EntitiesAsync(CounterSets.Get(System(a)).Get<PageViews>()));
    }

    // A hosts the set with the role; B joins without it and runs what configureB adds
    private async Task<(IHost A, IHost B)> StartClusterAsync(Action<AkkaConfigurationBuilder> configureB)
    {
        var a = CounterSetKeysSpec.Host("counter-roles", builder => builder.WithWriteBehindCounters<PageViews>(o =>
        {
            o.TypeName = TypeName;
            o.Role = Role;
            o.Store = _store;
            o.FlushInterval = TimeSpan.FromHours(1);
        }), Role);
        _hosts.Add(a);
        await a.StartAsync();
        var first = Cluster.Cluster.Get(System(a));
        await first.JoinAsync(first.SelfAddress).WaitAsync(Timeout);

        var b = CounterSetKeysSpec.Host("counter-roles", configureB);
        _hosts.Add(b);
        await b.StartAsync();
        var second = Cluster.Cluster.Get(System(b));
        await second.JoinAsync(first.SelfAddress).WaitAsync(Timeout);
        await Eventually.TrueAsync(() => first.State.Members.Count(m => m.Status == MemberStatus.Up) == 2, Timeout, "two nodes Up");
        return (a, b);
    }

    // the regions the set's coordinator knows, asked through the node's region once it has found the coordinator
    internal static async Task<IReadOnlyCollection<Address>> RegionsAsync(IActorRef region)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (true)
        {
            var current = await region.Ask<CurrentRegions>(GetCurrentRegions.Instance, Timeout);
            if (current.Regions.Count > 0)
                return current.Regions.ToList();
            Assert.True(DateTime.UtcNow < deadline, "the region found its coordinator");
            await Task.Delay(100);
        }
    }

    private static ActorSystem System(IHost host) => host.Services.GetRequiredService<ActorSystem>();

    private static IRequiredActor<PageViews> Required(IHost host) => host.Services.GetRequiredService<IRequiredActor<PageViews>>();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        // the node without the role leaves first, so that the hosting node's hand-off is not waited for twice
        for (var i = _hosts.Count - 1; i >= 0; i--)
        {
            await _hosts[i].StopAsync();
            _hosts[i].Dispose();
        }
    }
}
