using Akka.Configuration;
using Akka.WriteBehind.Refresh;

namespace Akka.WriteBehind.Tests.Refresh;

public sealed class RefreshSettingsSpec
{
    private static RefreshSettings Read(string hocon = "") =>
        RefreshSettings.FromConfig(ConfigurationFactory.ParseString(hocon)
            .WithFallback(WriteBehindConfig.DefaultConfig()).GetConfig(RefreshSettings.ConfigPath));

    [Fact]
    public void Should_read_the_documented_defaults()
    {
        var settings = Read();

        Assert.Equal("write-behind-refresh", settings.TypeName);
        Assert.Equal(TimeSpan.FromSeconds(10), settings.ResyncPeriod);
        Assert.Equal(100, settings.Tps);
        Assert.Equal(TpsScope.Node, settings.TpsScope);
        Assert.Equal(10, settings.Burst);
        Assert.Equal(10, settings.BatchSize);
        Assert.Equal(TimeSpan.FromMilliseconds(100), settings.BatchDelay);
        Assert.Equal(4, settings.Parallelism);
        Assert.Equal(TimeSpan.FromSeconds(30), settings.SyncTimeout);
        Assert.True(settings.SyncOnCreate);
        Assert.Equal(100_000, settings.MaxItemsPerNode);
        Assert.Equal(100, settings.NumberOfShards);
        Assert.Equal(1_000, settings.EntityBufferSize);
        Assert.Equal(TimeSpan.FromSeconds(60), settings.IdleTimeout);
        Assert.Equal(TimeSpan.FromSeconds(60), settings.WakeInterval);
        Assert.Equal(10_000, settings.WakeLimit);
        Assert.Equal(TimeSpan.FromMilliseconds(100), settings.Retry.MinBackoff);
        Assert.Equal(TimeSpan.FromSeconds(10), settings.Retry.MaxBackoff);
        Assert.Equal(0.2, settings.Retry.RandomFactor);
        Assert.Equal(500, settings.StoreWriter.BatchSize);
        Assert.Equal(TimeSpan.FromMilliseconds(5), settings.StoreWriter.BatchDelay);
        Assert.Equal(2, settings.StoreWriter.Parallelism);
        Assert.Equal(10_000, settings.StoreWriter.BufferSize);
        Assert.Equal(TimeSpan.FromSeconds(30), settings.StoreWriter.WriteTimeout);
    }

    [Fact]
    public void Should_read_cluster_scope_and_wake_interval_off()
    {
        var settings = Read("akka.write-behind.refresh { tps-scope = CLUSTER, wake-interval = off }");

        Assert.Equal(TpsScope.Cluster, settings.TpsScope);
        Assert.Null(settings.WakeInterval);
    }

    [Theory]
    [InlineData("tps = 0", "akka.write-behind.refresh.tps")]
    [InlineData("burst = -1", "akka.write-behind.refresh.burst")]
    [InlineData("batch-size = 0", "akka.write-behind.refresh.batch-size")]
    [InlineData("parallelism = 0", "akka.write-behind.refresh.parallelism")]
    [InlineData("max-items-per-node = 0", "akka.write-behind.refresh.max-items-per-node")]
    [InlineData("resync-period = 0s", "akka.write-behind.refresh.resync-period")]
    [InlineData("sync-timeout = soon", "akka.write-behind.refresh.sync-timeout")]
    [InlineData("tps-scope = planet", "akka.write-behind.refresh.tps-scope")]
    [InlineData("sync-on-create = perhaps", "akka.write-behind.refresh.sync-on-create")]
    [InlineData("retry { min-backoff = 2s, max-backoff = 1s }", "akka.write-behind.refresh.retry.max-backoff")]
    [InlineData("retry.random-factor = 1.5", "akka.write-behind.refresh.retry.random-factor")]
    [InlineData("store-writer.batch-size = 0", "akka.write-behind.refresh.store-writer.batch-size")]
    [InlineData("store-writer.buffer-size = -1", "akka.write-behind.refresh.store-writer.buffer-size")]
    [InlineData("store-writer.write-timeout = 0s", "akka.write-behind.refresh.store-writer.write-timeout")]
    public void Should_refuse_bad_values_naming_the_key(string setting, string key)
    {
        var error = Assert.Throws<ConfigurationException>(() => Read($"akka.write-behind.refresh {{ {setting} }}"));

        Assert.Contains(key, error.Message);
    }

    [Theory]
    [InlineData(20, 5, 1, 5)]       // the configured burst when it holds 100 ms of budget
    [InlineData(1000, 10, 1, 100)]  // 100 ms of budget: burst 10 would lose tokens between the throttle's timer wakes
    [InlineData(1000, 10, 4, 25)]   // cluster scope: 250/s per node
    public void Should_size_the_token_bucket_to_at_least_100ms_of_budget(int tps, int burst, int upMembers, int bucket)
    {
        var scope = upMembers == 1 ? TpsScope.Node : TpsScope.Cluster;
        Assert.Equal(bucket, RefreshRate.Of(tps, burst, scope, upMembers).Bucket);
    }
}
