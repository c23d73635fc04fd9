using Akka.Configuration;

namespace Akka.WriteBehind.Tests.Support;

/// <summary>Configuration of a one-node test cluster on 127.0.0.1 with short write-behind intervals.</summary>
internal static class TestConfig
{
    /// <summary>The cluster config; with <paramref name="database"/>, journal durability (when switched on) journals to it.</summary>
    public static Config Cluster(string overrides = "", TestDatabase? database = null) =>
        Base(overrides).WithFallback(database?.JournalConfig ?? Config.Empty);

    private static Config Base(string overrides) =>
        ConfigurationFactory.ParseString(overrides)
            .WithFallback(ConfigurationFactory.ParseString("""
                akka.loglevel = INFO
                akka.actor.provider = cluster
                akka.remote.dot-netty.tcp { hostname = "127.0.0.1", port = 0 }
                akka.cluster.sharding.state-store-mode = ddata
                akka.coordinated-shutdown.run-by-clr-shutdown-hook = off
                akka.coordinated-shutdown.phases.cluster-sharding-shutdown-region.timeout = 30s
                akka.coordinated-shutdown.phases.before-cluster-shutdown.timeout = 30s
                akka.write-behind.counters {
                  flush-interval = 200ms
                  retry { min-backoff = 50ms, max-backoff = 500ms }
                  store-writer.write-timeout = 10s
                }
                # batches keep the 100ms min-duration; max-duration is generous, because a busy 2-core machine can take longer
                # than the default (2 x min-duration) for a first load and save. Specs of max-duration set their own.
                akka.write-behind.batches.max-duration = 5s
                """))
            .WithFallback(WriteBehindConfig.DefaultConfig());
}
