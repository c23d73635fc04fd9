using Akka.Configuration;
using Akka.WriteBehind.Counters;
using Akka.WriteBehind.Hosting;

namespace Akka.WriteBehind.Tests.Counters;

public sealed class CounterSettingsSpec
{
    private static CounterSettings Read(string hocon) =>
        CounterSettings.FromConfig(ConfigurationFactory.ParseString(hocon)
            .WithFallback(WriteBehindConfig.DefaultConfig())
            .GetConfig(CounterSettings.ConfigPath));

    [Fact]
    public void Should_read_the_documented_defaults()
    {
        var settings = Read("");
        Assert.Equal(CounterDurability.Memory, settings.Durability);
        Assert.Equal(TimeSpan.FromSeconds(1), settings.FlushInterval);
        Assert.Equal(0.2, settings.FlushJitter);
        Assert.Equal(500, settings.StoreWriter.BatchSize);
        Assert.Equal(TimeSpan.FromMilliseconds(10), settings.StoreWriter.BatchDelay);
        Assert.Equal(2, settings.StoreWriter.Parallelism);
        Assert.Equal(TimeSpan.FromMilliseconds(100), settings.Retry.MinBackoff);
        Assert.Equal(TimeSpan.FromSeconds(2), settings.Retry.MaxBackoff);
        Assert.Equal(10_000, settings.Ingest.MaxOutstanding);
        Assert.Equal(TimeSpan.FromSeconds(120), settings.PassivateIdleAfter);
        Assert.Equal(100_000, settings.MaxLiveEntities);
        Assert.Equal(1_000, settings.FlushAll.Parallelism);
    }

    [Fact]
    public void Should_give_each_counter_set_its_own_table()
    {
        Assert.Equal("counters", Read("").TableName);
        Assert.Equal("counters_page_views_v2", Read("akka.write-behind.counters.type-name = Page-Views.v2").TableName);
        Assert.Equal("views", Read("akka.write-behind.counters { type-name = x, table-name = views }").TableName);
        Assert.Equal("counters_other", (Read("") with { TypeName = "other" }).TableName);
    }

    [Theory]
    [InlineData("akka.write-behind.counters.flush-jitter = 1.5", "flush-jitter")]
    [InlineData("akka.write-behind.counters.flush-interval = 0s", "flush-interval")]
    [InlineData("akka.write-behind.counters.store-writer.batch-size = 0", "store-writer.batch-size")]
    [InlineData("akka.write-behind.counters.retry { min-backoff = 5s, max-backoff = 1s }", "retry.max-backoff")]
    [InlineData("akka.write-behind.counters.durability = disk", "durability")]
    [InlineData("akka.write-behind.counters.table-name = \"Counters-B\"", "table-name")]
    [InlineData("akka.write-behind.counters.journal.recovery-parallelism = 0", "journal.recovery-parallelism")]
    [InlineData("akka.write-behind.counters.journal.trim-interval = 0s", "journal.trim-interval")]
    [InlineData("akka.write-behind.counters.journal.group-window = -1s", "journal.group-window")]
    [InlineData("akka.write-behind.counters.max-live-entities = -1", "max-live-entities")]
    [InlineData("akka.write-behind.counters.flush-all.parallelism = 0", "flush-all.parallelism")]
    public void Should_refuse_invalid_values_naming_the_key(string hocon, string key)
    {
        var ex = Assert.Throws<ConfigurationException>(() => Read(hocon));
        Assert.Contains(key, ex.Message);
    }

    [Fact]
    public void Should_read_journal_durability_and_its_defaults()
    {
        var settings = Read("akka.write-behind.counters.durability = journal");
        Assert.Equal(CounterDurability.Journal, settings.Durability);
        Assert.Equal("akka.persistence.journal.sql", settings.Journal.PluginId);
        Assert.Equal(TimeSpan.FromSeconds(10), settings.Journal.TrimInterval);
        Assert.Equal(500, settings.Journal.RecoveryParallelism);
        Assert.Equal(TimeSpan.Zero, settings.Journal.GroupWindow);
        Assert.Equal(TimeSpan.FromSeconds(30), settings.Journal.SweepInterval);
    }

    [Fact]
    public void Should_turn_idle_passivation_off()
    {
        Assert.Null(Read("akka.write-behind.counters.passivate-idle-after = off").PassivateIdleAfter);
    }

    [Fact]
    public void Should_turn_the_live_entity_limit_off()
    {
        Assert.Equal(0, Read("akka.write-behind.counters.max-live-entities = off").MaxLiveEntities);
        Assert.Equal(0, Read("akka.write-behind.counters.max-live-entities = 0").MaxLiveEntities);
    }

    [Fact]
    public void Should_render_hosting_options_over_the_defaults()
    {
        var options = new WriteBehindCountersOptions
        {
            FlushInterval = TimeSpan.FromMilliseconds(250),
            BatchSize = 64,
            Parallelism = 3,
            PassivateIdleAfter = TimeSpan.Zero,
            MaxLiveEntities = 2_000,
            SqliteDataDir = "/tmp/some \"dir\"",
        };
        var config = options.ToHocon().WithFallback(WriteBehindConfig.DefaultConfig());

        var settings = CounterSettings.FromConfig(config.GetConfig(CounterSettings.ConfigPath));
        Assert.Equal(TimeSpan.FromMilliseconds(250), settings.FlushInterval);
        Assert.Equal(64, settings.StoreWriter.BatchSize);
        Assert.Equal(3, settings.StoreWriter.Parallelism);
        Assert.Null(settings.PassivateIdleAfter);
        Assert.Equal(2_000, settings.MaxLiveEntities);
        Assert.Equal(0.2, settings.FlushJitter);
        Assert.Equal("/tmp/some \"dir\"", config.GetString("akka.write-behind.storage.sqlite.data-dir"));
    }
}
