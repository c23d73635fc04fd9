using Akka.Configuration;
using Akka.WriteBehind.Counters;

namespace Akka.WriteBehind.Tests.Host;

/// <summary>
/// The Host's files as it layers them (the store file over <c>hocon/node.conf</c>, the library defaults behind both), read
/// from the copies the Host's build puts next to this spec, as the Host's counter set sees them.
/// </summary>
public sealed class HostStoreConfigSpec
{
    private static CounterSettings Counters(string storeFile)
    {
        var hocon = Path.Combine(AppContext.BaseDirectory, "hocon");
        var files = ConfigurationFactory.ParseString(File.ReadAllText(Path.Combine(hocon, storeFile)))
            .WithFallback(ConfigurationFactory.ParseString(File.ReadAllText(Path.Combine(hocon, "node.conf"))));
        return CounterSettings.FromConfig(files.WithFallback(WriteBehindConfig.DefaultConfig()).GetConfig(CounterSettings.ConfigPath));
    }

    [Fact]
    public void Should_give_the_counters_of_a_sqlite_node_one_shard()
    {
        Assert.Equal(1, Counters("sqlite.conf").NumberOfShards);
    }

    [Fact]
    public void Should_keep_the_library_default_of_100_shards_on_postgres()
    {
        Assert.Equal(100, Counters("postgres.conf").NumberOfShards);
    }
}
