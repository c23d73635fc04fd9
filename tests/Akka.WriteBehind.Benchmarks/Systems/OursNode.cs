using System.Globalization;
using Akka.Actor;
using Akka.Configuration;
using Akka.WriteBehind.Counters;

namespace Akka.WriteBehind.Benchmarks.Systems;

/// <summary>The node the library's counter systems run on: a one-node cluster with the counters on the round's SQLite file.</summary>
internal static class OursNode
{
    /// <summary>What every round's one-node cluster shares: 127.0.0.1 on a free port, sharding state in ddata, no CLR shutdown hook.</summary>
    private static readonly Config OneNodeCluster = ConfigurationFactory.ParseString("""
        akka.actor.provider = cluster
        akka.remote.dot-netty.tcp { hostname = "127.0.0.1", port = 0 }
        akka.cluster.sharding.state-store-mode = ddata
        akka.coordinated-shutdown.run-by-clr-shutdown-hook = off
        """);

    /// <summary>
    /// The shard count of a journal-durable set on one node's SQLite file, as docs/durability.md advises and the Host's store
    /// file sets: one shard log, so every journal commit is one event of many keys.
    /// </summary>
    public const string SqliteJournalShards = "number-of-shards = 1";

    /// <summary>
    /// Starts the actor system "bench" on <paramref name="config"/> (the one-node cluster settings over it, the library's
    /// defaults behind it) and joins it to itself; a system that cannot join is terminated before the error is thrown.
    /// </summary>
    public static async Task<ActorSystem> StartSystemAsync(Config config)
    {
        var system = ActorSystem.Create("bench", OneNodeCluster.WithFallback(config).WithFallback(WriteBehindConfig.DefaultConfig()));
        try
        {
            var cluster = Akka.Cluster.Cluster.Get(system);
            await cluster.JoinAsync(cluster.SelfAddress);
            return system;
        }
        catch
        {
            await system.Terminate();
            throw;
        }
    }

    /// <summary>The shard logs' SQLite file of a journal-durable round: beside its counters file.</summary>
    public static string JournalFile(string dbFile) => Path.Combine(Path.GetDirectoryName(dbFile)!, "journal.db");

    /// <summary>
    /// Starts the actor system, joins it to itself and starts the counters (memory or journal durability, the scenario's
    /// flush interval and idle passivation) writing through a <see cref="CountingStore"/>.
    /// </summary>
    public static async Task<(ActorSystem System, CountingStore Store, CounterSet Counters)> StartAsync(string dbFile, Scenario scenario, bool journal)
    {
        var flush = (long)scenario.FlushInterval.TotalMilliseconds;
        var config = ConfigurationFactory.ParseString($$"""
                akka.loglevel = WARNING
                akka.stdout-loglevel = WARNING
                akka.write-behind.counters {
                  durability = {{(journal ? "journal" : "memory")}}
                  {{(journal ? SqliteJournalShards : "")}}
                  flush-interval = {{flush.ToString(CultureInfo.InvariantCulture)}}ms
                  {{(scenario.PassivateIdleAfter is { } idle ? $"passivate-idle-after = {(long)idle.TotalMilliseconds}ms" : "")}}
                }
                """)
            .WithFallback(journal ? JournalDurability.Config(JournalFile(dbFile)) : Config.Empty);
        if (scenario.CounterConfig is { } extra)
            config = ConfigurationFactory.ParseString($"akka.write-behind.counters {{ {extra} }}").WithFallback(config); // --counter-config wins
        var system = await StartSystemAsync(config);
        var store = new CountingStore(new SqliteCounterStore($"Data Source={dbFile}"));
        return (system, store, await WriteBehindCounters.StartAsync(system, store));
    }
}
