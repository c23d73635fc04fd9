using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Hosting;
using Akka.Hosting;
using Akka.Remote.Hosting;
using Akka.WriteBehind.Counters;
using Akka.WriteBehind.Hosting;
using Akka.WriteBehind.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Akka.WriteBehind.Tests.Hosting;

public sealed class WriteBehindHostingSpec
{
    [Fact]
    public async Task Should_register_the_counter_region_and_apply_options()
    {
        var store = new InMemoryCounterStore();
        using var host = new HostBuilder()
            .ConfigureServices(services => services.AddAkka("hosting-spec", builder => builder
                .AddHocon("akka.coordinated-shutdown.run-by-clr-shutdown-hook = off", HoconAddMode.Prepend)
                .WithRemoting("127.0.0.1", 0)
                .WithClustering()
                .AddStartup((system, _) => Cluster.Cluster.Get(system).Join(Cluster.Cluster.Get(system).SelfAddress))
                .WithWriteBehindCounters(options =>
                {
                    options.Store = store;
                    options.FlushInterval = TimeSpan.FromHours(1);
                    options.NumberOfShards = 7;
                })))
            .Build();
        await host.StartAsync();
        try
        {
            var system = host.Services.GetRequiredService<ActorSystem>();
            Assert.Equal(TimeSpan.FromHours(1), CounterSettings.Create(system).FlushInterval);
            Assert.Equal(7, CounterSettings.Create(system).NumberOfShards);

            var region = host.Services.GetRequiredService<IRequiredActor<CounterRegion>>();
            var actor = await region.GetAsync();
            var timeout = TimeSpan.FromSeconds(15);
            Assert.Equal(new IncrementAccepted("hosted", 3), await actor.Ask<ICounterReply>(new Increment("hosted", 3), timeout));
            Assert.Equal(new CounterFlushed("hosted", 3), await actor.Ask<ICounterReply>(new FlushCounter("hosted"), timeout));
            Assert.Equal(3, store.Snapshot()["hosted"]);
        }
        finally
        {
            await host.StopAsync();
        }
    }
}
