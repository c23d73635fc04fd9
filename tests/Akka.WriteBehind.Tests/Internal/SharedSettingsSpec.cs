using Akka.Configuration;
using Akka.WriteBehind.Counters;
using Akka.WriteBehind.Internal;
using Akka.WriteBehind.Refresh;

namespace Akka.WriteBehind.Tests.Internal;

/// <summary>
/// The <c>retry</c> and <c>store-writer</c> sections mean the same in every feature: one type each, read by the same code,
/// so that the same HOCON gives the same settings and the same bad value the same message.
/// </summary>
public sealed class SharedSettingsSpec
{
    private const string Sections = """
        retry { min-backoff = 50ms, max-backoff = 3s, random-factor = 0.5 }
        store-writer { batch-size = 7, batch-delay = 3ms, parallelism = 5, buffer-size = 11, write-timeout = 9s }
        """;

    private static Config Root(string hocon) =>
        ConfigurationFactory.ParseString(hocon).WithFallback(WriteBehindConfig.DefaultConfig());

    [Fact]
    public void Should_read_the_same_sections_into_the_same_settings_in_counters_and_refresh()
    {
        var root = Root($"akka.write-behind.counters {{ {Sections} }}\nakka.write-behind.refresh {{ {Sections} }}");

        var counters = CounterSettings.FromConfig(root.GetConfig(CounterSettings.ConfigPath));
        var refresh = RefreshSettings.FromConfig(root.GetConfig(RefreshSettings.ConfigPath));

        var retry = new RetrySettings(TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(3), 0.5);
        var writer = new StoreWriterSettings(7, TimeSpan.FromMilliseconds(3), 5, 11, TimeSpan.FromSeconds(9));
        Assert.Equal(retry, counters.Retry);
        Assert.Equal(retry, refresh.Retry);
        Assert.Equal(writer, counters.StoreWriter);
        Assert.Equal(writer, refresh.StoreWriter);
    }

    [Theory]
    [InlineData("retry.random-factor = -0.1", "retry.random-factor")]
    [InlineData("retry.min-backoff = 0s", "retry.min-backoff")]
    [InlineData("store-writer.parallelism = 0", "store-writer.parallelism")]
    [InlineData("store-writer.batch-delay = never", "store-writer.batch-delay")]
    public void Should_refuse_a_bad_value_in_either_feature_naming_its_full_key(string setting, string key)
    {
        var counters = Assert.Throws<ConfigurationException>(() =>
            CounterSettings.FromConfig(Root($"akka.write-behind.counters {{ {setting} }}").GetConfig(CounterSettings.ConfigPath)));
        var refresh = Assert.Throws<ConfigurationException>(() =>
            RefreshSettings.FromConfig(Root($"akka.write-behind.refresh {{ {setting} }}").GetConfig(RefreshSettings.ConfigPath)));

        Assert.Contains($"{CounterSettings.ConfigPath}.{key}", counters.Message);
        Assert.Contains($"{RefreshSettings.ConfigPath}.{key}", refresh.Message);
    }

    [Fact]
    public void Should_spread_a_retry_wait_by_at_most_the_random_factor()
    {
        var retry = new RetrySettings(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(1), 0.5);

        for (var i = 0; i < 100; i++)
        {
            Assert.InRange(SharedSettings.After(retry, 1), TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(150));
            Assert.InRange(SharedSettings.After(retry, 10), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1.5));
        }
    }
}
