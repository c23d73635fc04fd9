using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Hosting;
using Akka.Hosting;
using Akka.Remote.Hosting;
using Akka.WriteBehind.Counters;
using Akka.WriteBehind.Hosting;
using Akka.WriteBehind.Sql;
using Akka.WriteBehind.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Akka.WriteBehind.Tests.Hosting;

public sealed class WriteBehindHostingSpec
{
    /// <summary>A generic host whose actor system is a one-node cluster running write-behind counters with <paramref name="configure"/>.</summary>
    internal static IHost OneNodeHost(string name, Action<WriteBehindCountersOptions> configure) =>
        new HostBuilder()
            .ConfigureServices(services => services.AddAkka(name, builder => builder
                .AddHocon("akka.coordinated-shutdown.run-by-clr-shutdown-hook = off", HoconAddMode.Prepend)
                .WithRemoting("127.0.0.1", 0)
                .WithClustering()
                .AddStartup((system, _) => Cluster.Cluster.Get(system).Join(Cluster.Cluster.Get(system).SelfAddress))
                .WithWriteBehindCounters(configure)))
            .Build();

    [Fact]
    public async Task Should_register_the_counter_region_and_apply_options()
    {
        var store = new InMemoryCounterStore();
        using var host = OneNodeHost("hosting-spec", options =>
        {
            options.Store = store;
            options.FlushInterval = TimeSpan.FromHours(1);
            options.NumberOfShards = 7;
        });
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

            // the fast path of the set the options started, reached through the actor system
            var counters = CounterSets.Get(system).Default;
            Assert.Same(counters, CounterSets.Get(system).Find(counters.Settings.TypeName));
            Assert.Equal(FastIncrementStatus.Buffered, counters.Increment("hosted-fast", 4));
            Assert.Equal(FastIncrementStatus.Buffered, counters.Increment("hosted-fast", 5));
            Assert.Equal(new CounterFlushed("hosted-fast", 9), await actor.Ask<ICounterReply>(new FlushCounter("hosted-fast"), timeout));
            Assert.Equal(9, store.Snapshot()["hosted-fast"]);
        }
        finally
        {
            await host.StopAsync();
        }
    }
}

[Collection(PostgresFixture.Collection)]
public sealed class PostgresHostingSpec(PostgresFixture postgres) : IDisposable
{
    private readonly PostgresTestDatabase _database = new(postgres);

    [Fact]
    public async Task Should_write_counters_and_journal_to_the_postgres_database_of_the_options()
    {
        using var host = WriteBehindHostingSpec.OneNodeHost("hosting-postgres-spec", options =>
        {
            options.StorageProvider = StorageProvider.Postgres;
            options.ConnectionString = _database.ConnectionString;
            options.Durability = CounterDurability.Journal;
            options.FlushInterval = TimeSpan.FromHours(1);
        });
        await host.StartAsync();
        try
        {
            var system = host.Services.GetRequiredService<ActorSystem>();
            Assert.Equal(StorageProvider.Postgres, SqlStorage.ProviderFromConfig(system.Settings.Config));
            Assert.Equal("PostgreSQL.15", system.Settings.Config.GetString("akka.persistence.journal.sql.provider-name"));

            var actor = await host.Services.GetRequiredService<IRequiredActor<CounterRegion>>().GetAsync();
            var timeout = TimeSpan.FromSeconds(15);
            Assert.Equal(new IncrementAccepted("hosted-pg", 3), await actor.Ask<ICounterReply>(new Increment("hosted-pg", 3), timeout));

            // acknowledged = journaled in PostgreSQL; the flush writes it to the counters table there
            Assert.Equal(1, (await _database.JournalEventCountsAsync()).Values.Sum());
            Assert.Empty(await _database.ReadCountersAsync());
            Assert.Equal(new CounterFlushed("hosted-pg", 3), await actor.Ask<ICounterReply>(new FlushCounter("hosted-pg"), timeout));
            Assert.Equal(new Dictionary<string, long> { ["hosted-pg"] = 3 }, await _database.ReadCountersAsync());
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Fact]
    public void Should_refuse_journal_durability_on_postgres_without_a_connection_string()
    {
        var error = Assert.Throws<ArgumentException>(() => new AkkaConfigurationBuilder(new ServiceCollection(), "refused")
            .WithWriteBehindCounters(options =>
            {
                options.StorageProvider = StorageProvider.Postgres;
                options.Durability = CounterDurability.Journal;
            }));

        Assert.Contains("ConnectionString", error.Message);
    }

    public void Dispose() => _database.Dispose();
}
