using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Hosting;
using Akka.Remote.Hosting;
using Akka.WriteBehind.Batches;
using Akka.WriteBehind.Hosting;
using Akka.WriteBehind.Samples.Accounts;
using Akka.WriteBehind.Sql;
using Akka.WriteBehind.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Akka.WriteBehind.Tests.Hosting;

public sealed class WriteBehindBatchesHostingSpec
{
    [Fact]
    public async Task Should_register_a_resource_type_in_a_few_lines_and_apply_its_options()
    {
        using var dir = new TempDirectory();
        using var host = new HostBuilder()
            .ConfigureServices(services => services.AddAkka("batches-hosting-spec", builder => builder
                .AddHocon("akka.coordinated-shutdown.run-by-clr-shutdown-hook = off", HoconAddMode.Prepend)
                .AddHocon($"akka.write-behind.storage.sqlite.data-dir = \"{dir.Path}\"", HoconAddMode.Prepend)
                .WithRemoting("127.0.0.1", 0)
                .WithClustering()
                .AddStartup((system, _) => Cluster.Cluster.Get(system).Join(Cluster.Cluster.Get(system).SelfAddress))
                .WithWriteBehindBatches<Account>(options =>
                {
                    options.TypeName = AccountOperations.TypeName;
                    options.Handler = AccountOperations.Instance;
                    options.StoreFactory = system => AccountStores.SqliteAccountStoreFromConfig(system.Settings.Config);
                    options.KeepLoaded = true;
                    options.MinDuration = TimeSpan.FromMilliseconds(50);
                    options.MaxDuration = TimeSpan.FromSeconds(5);
                })
                .WithWriteBehindBatches<Tape>(options =>
                {
                    options.TypeName = "tapes";
                    options.Handler = TapeHandler.Instance;
                    options.Store = new TapeStore();
                    options.MaxDuration = TimeSpan.FromSeconds(5);
                })))
            .Build();
        await host.StartAsync();
        try
        {
            var system = host.Services.GetRequiredService<ActorSystem>();
            var region = host.Services.GetRequiredService<IRequiredActor<BatchRegion<Account>>>();
            var accounts = await region.GetProcessorAsync(system);
            Assert.True(accounts.Settings.KeepLoaded);
            Assert.Equal(TimeSpan.FromMilliseconds(50), accounts.Settings.MinDuration);
            Assert.Equal(TimeSpan.FromSeconds(5), accounts.Settings.MaxDuration);
            Assert.Same(await region.GetAsync(), accounts.ShardRegion);
            Assert.False(WriteBehindBatches.Processor<Tape>(system).Settings.KeepLoaded);

            var timeout = TimeSpan.FromSeconds(15);
            Assert.Equal(new AccountBalance(3), await accounts.RunAsync("hosted", new Deposit(3)).WaitAsync(timeout));
            Assert.Equal(new TapeLength(1), await WriteBehindBatches.Processor<Tape>(system).RunAsync("hosted", new Append("x")).WaitAsync(timeout));
            Assert.Equal((3, 1), await Batches.AccountsTable.ReadAsync(dir.DatabaseFile, "hosted"));
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Fact]
    public void Should_refuse_options_without_a_name_a_handler_or_a_store()
    {
        var builder = new AkkaConfigurationBuilder(new ServiceCollection(), "refuse");
        Assert.Throws<ArgumentException>(() => builder.WithWriteBehindBatches<Tape>(o => { o.Handler = TapeHandler.Instance; o.Store = new TapeStore(); }));
        Assert.Throws<ArgumentException>(() => builder.WithWriteBehindBatches<Tape>(o => { o.TypeName = "tapes"; o.Store = new TapeStore(); }));
        Assert.Throws<ArgumentException>(() => builder.WithWriteBehindBatches<Tape>(o => { o.TypeName = "tapes"; o.Handler = TapeHandler.Instance; }));
    }
}
