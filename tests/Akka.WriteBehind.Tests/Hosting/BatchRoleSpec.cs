using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using Akka.WriteBehind.Batches;
using Akka.WriteBehind.Hosting;
using Akka.WriteBehind.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Akka.WriteBehind.Tests.Hosting;

/// <summary>A batch resource type with a role: node B, without it, runs operations whose resources live on node A.</summary>
public sealed class BatchRoleSpec : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly TapeStore _store = new();
    private readonly List<IHost> _hosts = new();

    [Fact]
    public async Task Should_host_no_resource_of_the_type_on_a_node_without_the_role()
    {
        var a = await StartAsync(CounterSetKeysSpec.Host("batch-roles", Tapes, "batches"));
        var b = await StartAsync(CounterSetKeysSpec.Host("batch-roles", Tapes), Cluster.Cluster.Get(System(a)).SelfAddress);
        await Eventually.TrueAsync(() => Cluster.Cluster.Get(System(a)).State.Members.Count(m => m.Status == MemberStatus.Up) == 2,
            Timeout, "two nodes Up");
        var onB = WriteBehindBatches.Processor<Tape>(System(b));

        // B's region answers once it is known to the coordinator: it would be counted as a region by now if it hosted
        var regions = await CounterSetRoleSpec.RegionsAsync(onB.ShardRegion);
        Assert.Single(regions);
        Assert.DoesNotContain(Cluster.Cluster.Get(System(b)).SelfAddress, regions);

        for (var i = 0; i < 20; i++)
            Assert.Equal(new TapeLength(1), await onB.RunAsync($"t{i}", new Append("x")).WaitAsync(Timeout));
        Assert.Equal(1, _store.Saves("t7"));

        var onA = WriteBehindBatches.Processor<Tape>(System(a));
        Assert.Equal(20, await EntitiesAsync(onA.ShardRegion));
        Assert.Equal(0, await EntitiesAsync(onB.ShardRegion));
    }

    private void Tapes(AkkaConfigurationBuilder builder) => builder.WithWriteBehindBatches<Tape>(o =>
    {
        o.TypeName = "tapes";
        o.Handler = TapeHandler.Instance;
        o.Store = _store;
        o.Role = "batches";
        o.MaxDuration = TimeSpan.FromSeconds(5);
    });

    private static async Task<int> EntitiesAsync(IActorRef region) =>
        (await region.Ask<CurrentShardRegionState>(GetShardRegionState.Instance, Timeout)).Shards.Sum(s => s.EntityIds.Count);

    private async Task<IHost> StartAsync(IHost host, Address? join = null)
    {
        _hosts.Add(host);
        await host.StartAsync();
        var cluster = Cluster.Cluster.Get(System(host));
        await cluster.JoinAsync(join ?? cluster.SelfAddress).WaitAsync(Timeout);
        return host;
    }

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
