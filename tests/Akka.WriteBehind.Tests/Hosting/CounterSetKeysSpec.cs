using Akka.Actor;
using Akka.Hosting;
using Akka.WriteBehind.Counters;
using Akka.WriteBehind.Hosting;
using Akka.WriteBehind.Tests.Support;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Akka.WriteBehind.Tests.Hosting;

/// <summary>Keyed counter sets on one actor system: each its own type name, table and facade, found by its key.</summary>
public sealed class CounterSetKeysSpec
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    private sealed class PageViews;

    private sealed class Likes;

    private static async Task<IHost> OneNodeAsync(string name, Action<AkkaConfigurationBuilder> configure)
    {
        var host = ClusterHosts.Build(name, configure);
        await host.StartAsync();
        var cluster = Cluster.Cluster.Get(host.Services.GetRequiredService<ActorSystem>());
        await cluster.JoinAsync(cluster.SelfAddress).WaitAsync(Timeout);
        return host;
    }

    [Fact]
    public async Task Should_keep_two_keyed_sets_apart_in_their_own_tables()
    {
        using var dir = new TempDirectory();
        using var host = await OneNodeAsync("counter-set-keys", builder => builder
            .WithWriteBehindCounters<PageViews>(o =>
            {
                o.TypeName = "page-views";
                o.SqliteDataDir = dir.Path;
                o.FlushInterval = TimeSpan.FromHours(1);
            })
            .WithWriteBehindCounters<Likes>(o =>
            {
                o.TypeName = "likes";
                o.SqliteDataDir = dir.Path;
                o.FlushInterval = TimeSpan.FromHours(1);
                o.NumberOfShards = 7;
                o.Durability = CounterDurability.Journal;
            }));
        try
        {
            var system = host.Services.GetRequiredService<ActorSystem>();
            var views = await host.Services.GetRequiredService<IRequiredActor<PageViews>>().GetAsync();
            var likes = await host.Services.GetRequiredService<IRequiredActor<Likes>>().GetAsync();
            Assert.NotEqual(views, likes);

            // each key's facade is its own set, with its own options
            var sets = CounterSets.Get(system);
            Assert.Equal("page-views", sets.Get<PageViews>().Settings.TypeName);
            Assert.Equal("likes", sets.Get<Likes>().Settings.TypeName);
            Assert.Equal(7, sets.Get<Likes>().Settings.NumberOfShards);
            Assert.Equal(100, sets.Get<PageViews>().Settings.NumberOfShards);
            Assert.Equal(CounterDurability.Journal, sets.Get<Likes>().Settings.Durability);
            Assert.Equal(CounterDurability.Memory, sets.Get<PageViews>().Settings.Durability);
            // a keyed set's options are its own: the application's section keeps the defaults
            Assert.Equal(TimeSpan.FromSeconds(1), CounterSettings.Create(system).FlushInterval);
            Assert.Equal(CounterDurability.Memory, CounterSettings.Create(system).Durability);
            Assert.Same(views, sets.Get<PageViews>().Region);
            Assert.Null(sets.Find<string>());

            Assert.Equal(new IncrementAccepted("k", 5), await views.Ask<ICounterReply>(new Increment("k", 5), Timeout));
            Assert.IsType<IncrementAccepted>(await sets.Get<Likes>().IncrementAsync("k", 7));

            // an increment to one set is not seen in the other
            Assert.Equal(new CounterValue("k", 0, 5, 5), await views.Ask<ICounterReply>(new GetCounter("k"), Timeout));
            Assert.Equal(new CounterValue("k", 0, 7, 7), await likes.Ask<ICounterReply>(new GetCounter("k"), Timeout));

            // and each flushes to its own table of the one SQLite file
            Assert.Equal(new CounterFlushed("k", 5), await views.Ask<ICounterReply>(new FlushCounter("k"), Timeout));
            Assert.Equal(new CounterFlushed("k", 7), await likes.Ask<ICounterReply>(new FlushCounter("k"), Timeout));
            var file = SqliteCounterStore.ForDirectory(dir.Path);
            Assert.Equal(5, (await file.WithTable("counters_page_views").ReadAsync(["k"]))["k"].Value);
            Assert.Equal(7, (await file.WithTable("counters_likes").ReadAsync(["k"]))["k"].Value);

            // only the journal set wrote to the journal, under its own persistence ids
            await using var journal = new SqliteConnection($"Data Source={Path.Combine(dir.Path, "journal.db")}");
            await journal.OpenAsync();
            await using var ids = journal.CreateCommand();
            ids.CommandText = "SELECT DISTINCT persistence_id FROM journal";
            await using var reader = await ids.ExecuteReaderAsync();
            var persistenceIds = new List<string>();
            while (await reader.ReadAsync())
                persistenceIds.Add(reader.GetString(0));
            Assert.NotEmpty(persistenceIds);
            Assert.All(persistenceIds, id => Assert.StartsWith("likes|shard-", id));
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Theory]
    [InlineData(false, "page-views-2")] // the same key, another type name
    [InlineData(true, "page-views")] // another key, the same type name
    public async Task Should_refuse_a_second_set_under_the_same_key_or_type_name(bool otherKey, string otherTypeName)
    {
        var store = new InMemoryCounterStore();
        using var host = ClusterHosts.Build("counter-set-clash", builder =>
        {
            builder.WithWriteBehindCounters<PageViews>(o => (o.TypeName, o.Store) = ("page-views", store));
            if (otherKey)
                builder.WithWriteBehindCounters<Likes>(o => (o.TypeName, o.Store) = (otherTypeName, store));
            else
                builder.WithWriteBehindCounters<PageViews>(o => (o.TypeName, o.Store) = (otherTypeName, store));
        });

        var error = await Assert.ThrowsAsync<DuplicateSetException>(() => host.StartAsync());
        Assert.Equal(otherKey ? typeof(Likes) : typeof(PageViews), error.Key);
        Assert.Equal(otherTypeName, error.TypeName);
        await host.StopAsync();
    }

    [Fact]
    public async Task Should_refuse_a_keyed_set_on_the_default_sets_type_name()
    {
        using var host = await OneNodeAsync("counter-set-default-type", builder => builder
            .WithWriteBehindCounters(o => o.Store = new InMemoryCounterStore()));
        try
        {
            var system = host.Services.GetRequiredService<ActorSystem>();
            var error = await Assert.ThrowsAsync<DuplicateSetException>(() =>
                WriteBehindCounters.StartAsync(system, new InMemoryCounterStore()));
            Assert.Equal("write-behind-counters", error.TypeName);
            Assert.Null(error.Key);

            // the first set is untouched
            var region = await host.Services.GetRequiredService<IRequiredActor<CounterRegion>>().GetAsync();
            Assert.Equal(new IncrementAccepted("k", 1), await region.Ask<ICounterReply>(new Increment("k", 1), Timeout));
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Fact]
    public void Should_require_a_type_name_for_a_keyed_set()
    {
        var error = Assert.Throws<ArgumentException>(() => new AkkaConfigurationBuilder(new ServiceCollection(), "no-type-name")
            .WithWriteBehindCounters<PageViews>(o => o.FlushInterval = TimeSpan.FromSeconds(1)));
        Assert.Contains("TypeName", error.Message);
    }
}
