using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Hosting;
using Akka.Remote.Hosting;
using Akka.WriteBehind.Hosting;
using Akka.WriteBehind.Refresh;
using Akka.WriteBehind.Tests.Refresh;
using Akka.WriteBehind.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Akka.WriteBehind.Tests.Hosting;

public sealed class WriteBehindRefreshHostingSpec
{
    [Fact]
    public async Task Should_register_the_refresh_region_apply_options_and_refresh_with_the_given_syncer()
    {
        using var dir = new TempDirectory();
        var syncer = new FakeSyncer();
        using var host = new HostBuilder()
            .ConfigureServices(services => services.AddAkka("refresh-hosting-spec", builder => builder
                .AddHocon("akka.coordinated-shutdown.run-by-clr-shutdown-hook = off", HoconAddMode.Prepend)
                .WithRemoting("127.0.0.1", 0)
                .WithClustering()
                .AddStartup((system, _) => Cluster.Cluster.Get(system).Join(Cluster.Cluster.Get(system).SelfAddress))
                .WithWriteBehindRefresh(options =>
                {
                    options.Store = SqliteRefreshItemStore.ForDirectory(dir.Path);
                    options.SyncerFactory = _ => syncer;
                    options.ResyncPeriod = TimeSpan.FromMilliseconds(200);
                    options.Tps = 500;
                    options.TpsScope = TpsScope.Cluster;
                    options.MaxItemsPerNode = 7;
                    options.SyncOnCreate = false;
                    options.StoreWriterBatchSize = 50;
                    options.StoreWriterBatchDelay = TimeSpan.FromMilliseconds(3);
                    options.StoreWriterParallelism = 1;
                    options.StoreWriterBufferSize = 123;
                })))
            .Build();
        await host.StartAsync();
        try
        {
            var system = host.Services.GetRequiredService<ActorSystem>();
            var settings = RefreshSettings.Create(system);
            Assert.Equal(TimeSpan.FromMilliseconds(200), settings.ResyncPeriod);
            Assert.Equal(500, settings.Tps);
            Assert.Equal(TpsScope.Cluster, settings.TpsScope);
            Assert.Equal(7, settings.MaxItemsPerNode);
            Assert.False(settings.SyncOnCreate);
            Assert.Equal(10, settings.Burst); // the library default
            Assert.Equal(50, settings.StoreWriter.BatchSize);
            Assert.Equal(TimeSpan.FromMilliseconds(3), settings.StoreWriter.BatchDelay);
            Assert.Equal(1, settings.StoreWriter.Parallelism);
            Assert.Equal(123, settings.StoreWriter.BufferSize);

            var region = await host.Services.GetRequiredService<IRequiredActor<RefreshRegion>>().GetAsync();
            var reply = await region.Ask<IRefreshReply>(new GetOrCreateItem(new RefreshItem("hosted", "{}")), TimeSpan.FromSeconds(15));
            Assert.True(Assert.IsType<RefreshItemReply>(reply).Created);
            await Eventually.TrueAsync(() => syncer.Count("hosted") >= 2, TimeSpan.FromSeconds(30), "the hosted item refreshed");
        }
        finally
        {
            await host.StopAsync();
        }
    }
}
