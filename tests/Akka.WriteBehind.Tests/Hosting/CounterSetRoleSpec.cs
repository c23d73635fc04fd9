using Akka.Actor;
using Akka.Hosting;
using Akka.WriteBehind.Counters;
using Akka.WriteBehind.Hosting;
using Akka.WriteBehind.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using static Akka.WriteBehind.Tests.Support.ClusterHosts;

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

    private readonly InMemoryCounterStore _store = new();
    private readonly ClusterHosts _cluster = new();

    private sealed class PageViews;

    [Fact]
    public async Task Should_send_increments_of_a_proxy_node_to_the_entities_on_the_node_with_the_role()
    {
        var (a, b) = await StartAsync(builder => builder.WithWriteBehindCountersProxy<PageViews>(TypeName, Role));
        var proxy = await Required(b).GetAsync();
        var facade = CounterSets.Get(SystemOf(b)).Get<PageViews>();
        Assert.Same(proxy, facade.Region);

        // through B's entry point and through its fast path
        for (var i = 0; i < 20; i++)
        {
            var reply = await proxy.Ask<ICounterReply>(new Increment($"k{i}", i + 1), Patience);
            Assert.Equal(new IncrementAccepted($"k{i}", i + 1), reply);
        }

        Assert.IsType<IncrementAccepted>(await facade.IncrementAsync("fast", 3));
        Assert.Equal(FastIncrementStatus.Buffered, facade.Increment("fast", 4));

        // reads and flushes from B are answered by the entities on A, which store them
        Assert.Equal(new CounterFlushed("k3", 4), await proxy.Ask<ICounterReply>(new FlushCounter("k3"), Patience));
        Assert.Equal(new CounterValue("k3", 4, 0, 4), await proxy.Ask<ICounterReply>(new GetCounter("k3"), Patience));
        Assert.IsType<AllCountersFlushed>(await facade.FlushAllAsync(Patience));
        var stored = _store.Snapshot();
        for (var i = 0; i < 20; i++)
            Assert.Equal(i + 1, stored[$"k{i}"]);
        Assert.Equal(7, stored["fast"]);

        // every entity lives on A; B is no region of the set
        Assert.Equal(21, await EntitiesAsync(CounterSets.Get(SystemOf(a)).Get<PageViews>().ShardRegion));
        Assert.DoesNotContain(Cluster.Cluster.Get(SystemOf(b)).SelfAddress, await RegionsAsync(facade.ShardRegion));
    }

    [Fact]
    public async Task Should_host_no_entity_of_the_set_on_a_node_without_the_role()
    {
        var (a, b) = await StartAsync(Hosting);
        var onB = CounterSets.Get(SystemOf(b)).Get<PageViews>();

        // B's region answers once it is known to the coordinator: it would be counted as a region by now if it hosted
        var regions = await RegionsAsync(onB.ShardRegion);
        Assert.Single(regions);
        Assert.DoesNotContain(Cluster.Cluster.Get(SystemOf(b)).SelfAddress, regions);

        var region = await Required(b).GetAsync();
        for (var i = 0; i < 30; i++)
            Assert.Equal(new IncrementAccepted($"k{i}", 1), await region.Ask<ICounterReply>(new Increment($"k{i}", 1), Patience));
        Assert.IsType<AllCountersFlushed>(await onB.FlushAllAsync(Patience));
        Assert.Equal(30, _store.Snapshot().Count);

        Assert.Equal(0, await EntitiesAsync(onB.ShardRegion));
        Assert.Equal(30, await EntitiesAsync(CounterSets.Get(SystemOf(a)).Get<PageViews>().ShardRegion));
    }

    // the set hosted on the members with the role
    private void Hosting(AkkaConfigurationBuilder builder) => builder.WithWriteBehindCounters<PageViews>(o =>
    {
        o.TypeName = TypeName;
        o.Role = Role;
        o.Store = _store;
        o.FlushInterval = TimeSpan.FromHours(1);
    });

    // A hosts the set with the role; B joins without it and runs what configureB adds
    private Task<(IHost A, IHost B)> StartAsync(Action<AkkaConfigurationBuilder> configureB) =>
        _cluster.StartTwoAsync(Build("counter-roles", Hosting, Role), Build("counter-roles", configureB));

    private static IRequiredActor<PageViews> Required(IHost host) => host.Services.GetRequiredService<IRequiredActor<PageViews>>();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _cluster.DisposeAsync();
}
