using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Hosting;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using Akka.Remote.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Akka.WriteBehind.Tests.Support;

/// <summary>
/// Generic hosts whose actor systems form one cluster on 127.0.0.1, for the specs of the Akka.Hosting registrations; stops
/// them in reverse order of start (the nodes that joined last leave first).
/// </summary>
internal sealed class ClusterHosts : IAsyncDisposable
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private readonly List<IHost> _hosts = new();

    /// <summary>A host whose actor system is a cluster node with <paramref name="roles"/>, configured by <paramref name="configure"/>.</summary>
    public static IHost Build(string name, Action<AkkaConfigurationBuilder> configure, params string[] roles) =>
        new HostBuilder()
            .ConfigureServices(services => services.AddAkka(name, builder =>
            {
                builder
                    .AddHocon("akka.coordinated-shutdown.run-by-clr-shutdown-hook = off", HoconAddMode.Prepend)
                    .WithRemoting("127.0.0.1", 0)
                    .WithClustering(new ClusterOptions { Roles = roles });
                configure(builder);
            }))
            .Build();

    /// <summary>Keeps <paramref name="host"/> to stop it later, without starting it.</summary>
    public IHost Add(IHost host)
    {
        _hosts.Add(host);
        return host;
    }

    /// <summary>Starts <paramref name="host"/> and joins it to <paramref name="join"/> (itself when <c>null</c>).</summary>
    public async Task<IHost> StartAsync(IHost host, Address? join = null)
    {
        Add(host);
        await host.StartAsync();
        var cluster = Cluster.Cluster.Get(SystemOf(host));
        await cluster.JoinAsync(join ?? cluster.SelfAddress).WaitAsync(Patience);
        return host;
    }

    /// <summary>Starts a node with the host <paramref name="first"/> and then one with <paramref name="second"/> joining it,
    /// and waits until both are Up.</summary>
    public async Task<(IHost First, IHost Second)> StartTwoAsync(IHost first, IHost second)
    {
        await StartAsync(first);
        var seed = Cluster.Cluster.Get(SystemOf(first));
        await StartAsync(second, seed.SelfAddress);
        await Eventually.TrueAsync(() => seed.State.Members.Count(m => m.Status == MemberStatus.Up) == 2, Patience, "two nodes Up");
        return (first, second);
    }

    public static ActorSystem SystemOf(IHost host) => host.Services.GetRequiredService<ActorSystem>();

    /// <summary>The regions the coordinator of <paramref name="region"/>'s type knows, asked once the region found it.</summary>
    public static async Task<IReadOnlyCollection<Address>> RegionsAsync(IActorRef region)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            var current = await region.Ask<CurrentRegions>(GetCurrentRegions.Instance, Patience);
            if (current.Regions.Count > 0)
                return current.Regions.ToList();
            Assert.True(DateTime.UtcNow < deadline, "the region found its coordinator");
            await Task.Delay(100);
        }
    }

    /// <summary>The entities <paramref name="region"/> hosts on its node.</summary>
    public static async Task<int> EntitiesAsync(IActorRef region) =>
        (await region.Ask<CurrentShardRegionState>(GetShardRegionState.Instance, Patience)).Shards.Sum(s => s.EntityIds.Count);

    public async ValueTask DisposeAsync()
    {
        for (var i = _hosts.Count - 1; i >= 0; i--)
        {
            await _hosts[i].StopAsync();
            _hosts[i].Dispose();
        }
    }
}
