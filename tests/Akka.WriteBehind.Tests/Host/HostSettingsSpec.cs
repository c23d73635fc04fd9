using System.Collections;
using Akka.WriteBehind.Counters;
using Akka.WriteBehind.Host;
using Akka.WriteBehind.Sql;

namespace Akka.WriteBehind.Tests.Host;

public sealed class HostSettingsSpec
{
    private static readonly IDictionary NoEnvironment = new Hashtable();

    private static HostSettings Parse(params string[] args) => HostSettings.Parse(args, NoEnvironment);

    private static HostSettings ParseWithEnvironment(IDictionary environment, params string[] args) => HostSettings.Parse(args, environment);

    [Fact]
    public void Should_use_the_defaults_when_nothing_is_given()
    {
        var settings = Parse();

        Assert.Equal(5080, settings.HttpPort);
        Assert.Equal(4053, settings.AkkaPort);
        Assert.Equal("./data", settings.DataDir);
        Assert.Empty(settings.SeedNodes);
        Assert.Equal(TimeSpan.FromSeconds(1), settings.FlushInterval);
        Assert.Equal(Akka.WriteBehind.Counters.CounterDurability.Journal, settings.Durability);
        Assert.Equal(StorageProvider.Sqlite, settings.Store);
        Assert.Null(settings.ConnectionString);
        Assert.Null(settings.RefreshUrl);
        Assert.Equal(TimeSpan.FromSeconds(10), settings.ResyncPeriod);
        Assert.False(settings.HelpRequested);
    }

    [Fact]
    public void Should_read_the_refresh_url_and_resync_period_from_the_command_line_or_the_environment()
    {
        var settings = Parse("--refresh-url", "http://127.0.0.1:9000/jobs/{id}", "--resync-period=2s");
        Assert.Equal("http://127.0.0.1:9000/jobs/{id}", settings.RefreshUrl);
        Assert.Equal(TimeSpan.FromSeconds(2), settings.ResyncPeriod);

        var environment = new Hashtable
        {
            ["WRITEBEHIND_REFRESH_URL"] = "https://jobs.example/api/{id}/status",
            ["WRITEBEHIND_RESYNC_PERIOD"] = "500ms",
        };
        var fromEnvironment = ParseWithEnvironment(environment);
        Assert.Equal("https://jobs.example/api/{id}/status", fromEnvironment.RefreshUrl);
        Assert.Equal(TimeSpan.FromMilliseconds(500), fromEnvironment.ResyncPeriod);
        Assert.Equal(TimeSpan.FromSeconds(3), ParseWithEnvironment(environment, "--resync-period", "3s").ResyncPeriod);
    }

    [Theory]
    [InlineData("http://127.0.0.1:9000/jobs/", "{id}")]
    [InlineData("ftp://127.0.0.1/jobs/{id}", "http or https")]
    [InlineData("/jobs/{id}", "http or https")]
    public void Should_refuse_a_refresh_url_that_is_not_an_http_template(string url, string expected)
    {
        var error = Assert.Throws<HostSettingsException>(() => Parse("--refresh-url", url));

        Assert.Contains("--refresh-url", error.Message);
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void Should_read_a_config_file_that_exists_and_refuse_one_that_does_not()
    {
        var file = Path.GetTempFileName();
        try
        {
            Assert.Equal(file, Parse("--config", file).ConfigFile);
            Assert.Equal(file, ParseWithEnvironment(new Hashtable { ["WRITEBEHIND_CONFIG"] = file }).ConfigFile);
            Assert.Null(Parse().ConfigFile);
        }
        finally
        {
            File.Delete(file);
        }

        var error = Assert.Throws<HostSettingsException>(() => Parse("--config", file));
        Assert.Contains("--config", error.Message);
        Assert.Contains("no file", error.Message);
    }

    [Fact]
    public void Should_refuse_a_bad_resync_period()
    {
        Assert.Contains("--resync-period", Assert.Throws<HostSettingsException>(() => Parse("--resync-period", "soon")).Message);
        Assert.Contains("WRITEBEHIND_RESYNC_PERIOD", Assert.Throws<HostSettingsException>(
            () => ParseWithEnvironment(new Hashtable { ["WRITEBEHIND_RESYNC_PERIOD"] = "0s" })).Message);
    }

    private const string PostgresConnectionString = "Host=127.0.0.1;Port=5432;Database=wb;Username=app;Password=secret";

    [Fact]
    public void Should_read_the_postgres_store_and_its_connection_string()
    {
        var settings = Parse("--store", "postgres", "--connection-string", PostgresConnectionString);

        Assert.Equal(StorageProvider.Postgres, settings.Store);
        Assert.Equal(PostgresConnectionString, settings.ConnectionString);
        Assert.Equal(StorageProvider.Sqlite, Parse("--store=SQLite").Store);
    }

    [Fact]
    public void Should_read_the_store_from_the_environment()
    {
        var environment = new Hashtable
        {
            ["WRITEBEHIND_STORE"] = "postgres",
            ["WRITEBEHIND_CONNECTION_STRING"] = PostgresConnectionString,
        };

        var settings = ParseWithEnvironment(environment);

        Assert.Equal(StorageProvider.Postgres, settings.Store);
        Assert.Equal(PostgresConnectionString, settings.ConnectionString);
    }

    [Theory]
    [InlineData("--store", "postgres")]
    [InlineData("--store", "postgres", "--connection-string", " ")]
    public void Should_require_a_connection_string_for_postgres(params string[] args)
    {
        var error = Assert.Throws<HostSettingsException>(() => Parse(args));

        Assert.Contains("--store postgres needs --connection-string (WRITEBEHIND_CONNECTION_STRING)", error.Message);
    }

    [Fact]
    public void Should_refuse_a_connection_string_for_sqlite()
    {
        var error = Assert.Throws<HostSettingsException>(() => ParseWithEnvironment(
            new Hashtable { ["WRITEBEHIND_CONNECTION_STRING"] = PostgresConnectionString }));

        Assert.StartsWith("WRITEBEHIND_CONNECTION_STRING is only used with --store postgres", error.Message);
    }

    [Fact]
    public void Should_refuse_an_invalid_connection_string_without_repeating_it()
    {
        var error = Assert.Throws<HostSettingsException>(() => Parse("--store", "postgres", "--connection-string", "Password=hunter2;Bogus Keyword=1"));

        Assert.StartsWith("--connection-string: not a valid Npgsql connection string", error.Message);
        Assert.DoesNotContain("hunter2", error.Message);
    }

    [Theory]
    [InlineData("journal", Akka.WriteBehind.Counters.CounterDurability.Journal)]
    [InlineData("memory", Akka.WriteBehind.Counters.CounterDurability.Memory)]
    [InlineData("MEMORY", Akka.WriteBehind.Counters.CounterDurability.Memory)]
    public void Should_read_the_durability(string text, Akka.WriteBehind.Counters.CounterDurability expected)
    {
        Assert.Equal(expected, Parse("--durability", text).Durability);
        var environment = new Hashtable { ["WRITEBEHIND_DURABILITY"] = text };
        Assert.Equal(expected, ParseWithEnvironment(environment).Durability);
    }

    [Fact]
    public void Should_refuse_an_unknown_durability()
    {
        var ex = Assert.Throws<HostSettingsException>(() => Parse("--durability", "disk"));
        Assert.Contains("--durability", ex.Message);
    }

    [Fact]
    public void Should_read_options_given_as_name_and_value()
    {
        var settings = Parse(
            "--http-port", "6000",
            "--akka-port", "6053",
            "--data-dir", "/tmp/wb data",
            "--seed-nodes", "akka.tcp://writebehind@127.0.0.1:6053,akka.tcp://writebehind@127.0.0.1:6054",
            "--flush-interval", "500ms");

        Assert.Equal(6000, settings.HttpPort);
        Assert.Equal(6053, settings.AkkaPort);
        Assert.Equal("/tmp/wb data", settings.DataDir);
        Assert.Equal(new[] { "akka.tcp://writebehind@127.0.0.1:6053", "akka.tcp://writebehind@127.0.0.1:6054" }, settings.SeedNodes);
        Assert.Equal(TimeSpan.FromMilliseconds(500), settings.FlushInterval);
    }

    [Fact]
    public void Should_read_options_given_as_name_equals_value()
    {
        var settings = Parse(
            "--http-port=6000",
            "--akka-port=0",
            "--data-dir=rel/dir",
            "--seed-nodes= akka.tcp://writebehind@127.0.0.1:6053 ",
            "--flush-interval=2s");

        Assert.Equal(6000, settings.HttpPort);
        Assert.Equal(0, settings.AkkaPort);
        Assert.Equal("rel/dir", settings.DataDir);
        Assert.Equal(new[] { "akka.tcp://writebehind@127.0.0.1:6053" }, settings.SeedNodes);
        Assert.Equal(TimeSpan.FromSeconds(2), settings.FlushInterval);
    }

    [Fact]
    public void Should_let_the_last_occurrence_of_an_option_win()
    {
        Assert.Equal(7000, Parse("--http-port", "6000", "--http-port=7000").HttpPort);
    }

    [Theory]
    [InlineData("500ms", 500)]
    [InlineData("2s", 2_000)]
    [InlineData("1m", 60_000)]
    [InlineData("1.5s", 1_500)]
    [InlineData("1h", 3_600_000)]
    [InlineData("250 ms", 250)]
    [InlineData("3S", 3_000)]
    public void Should_parse_durations(string text, int expectedMs)
    {
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), Parse("--flush-interval", text).FlushInterval);
    }

    [Fact]
    public void Should_fall_back_to_environment_variables()
    {
        var environment = new Hashtable
        {
            ["WRITEBEHIND_HTTP_PORT"] = "6100",
            ["WRITEBEHIND_AKKA_PORT"] = "6153",
            ["WRITEBEHIND_DATA_DIR"] = "/var/lib/wb",
            ["WRITEBEHIND_SEED_NODES"] = "akka.tcp://writebehind@127.0.0.1:6153",
            ["WRITEBEHIND_FLUSH_INTERVAL"] = "1m",
            ["UNRELATED"] = "x",
        };

        var settings = ParseWithEnvironment(environment);

        Assert.Equal(6100, settings.HttpPort);
        Assert.Equal(6153, settings.AkkaPort);
        Assert.Equal("/var/lib/wb", settings.DataDir);
        Assert.Equal(new[] { "akka.tcp://writebehind@127.0.0.1:6153" }, settings.SeedNodes);
        Assert.Equal(TimeSpan.FromMinutes(1), settings.FlushInterval);
    }

    [Fact]
    public void Should_prefer_the_command_line_over_the_environment()
    {
        var environment = new Hashtable
        {
            ["WRITEBEHIND_HTTP_PORT"] = "6100",
            ["WRITEBEHIND_FLUSH_INTERVAL"] = "not a duration",
            ["WRITEBEHIND_DATA_DIR"] = "/from/env",
        };

        var settings = ParseWithEnvironment(environment, "--http-port=6200", "--flush-interval", "3s");

        Assert.Equal(6200, settings.HttpPort);
        Assert.Equal(TimeSpan.FromSeconds(3), settings.FlushInterval);
        Assert.Equal("/from/env", settings.DataDir);
    }

    [Fact]
    public void Should_treat_empty_environment_variables_as_unset()
    {
        var settings = ParseWithEnvironment(new Hashtable { ["WRITEBEHIND_HTTP_PORT"] = "" });

        Assert.Equal(5080, settings.HttpPort);
    }

    [Fact]
    public void Should_name_the_environment_variable_of_a_bad_value()
    {
        var error = Assert.Throws<HostSettingsException>(() => ParseWithEnvironment(new Hashtable { ["WRITEBEHIND_AKKA_PORT"] = "x" }));

        Assert.Contains("WRITEBEHIND_AKKA_PORT", error.Message);
    }

    [Fact]
    public void Should_map_option_names_to_environment_variables()
    {
        Assert.Equal("WRITEBEHIND_HTTP_PORT", HostSettings.EnvironmentVariableName("http-port"));
        Assert.Equal("WRITEBEHIND_FLUSH_INTERVAL", HostSettings.EnvironmentVariableName("flush-interval"));
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("-h")]
    public void Should_request_help(string flag)
    {
        Assert.True(Parse("--http-port", "1", flag).HelpRequested);
        Assert.Contains("--flush-interval", HostSettings.Usage);
        Assert.Contains("--store", HostSettings.Usage);
        Assert.Contains("WRITEBEHIND_CONNECTION_STRING", HostSettings.Usage);
    }

    [Theory]
    [InlineData("--bogus", "--bogus")]
    [InlineData("--bogus=1", "--bogus")]
    [InlineData("--HTTP-PORT=1", "--HTTP-PORT")]
    [InlineData("positional", "positional")]
    [InlineData("--", "--")]
    [InlineData("--help=yes", "--help")]
    public void Should_refuse_unknown_options_and_arguments(string arg, string named)
    {
        var error = Assert.Throws<HostSettingsException>(() => Parse(arg));

        Assert.Contains(named, error.Message);
    }

    [Theory]
    [InlineData("--http-port")]
    [InlineData("--data-dir")]
    public void Should_refuse_an_option_without_a_value(string option)
    {
        var error = Assert.Throws<HostSettingsException>(() => Parse(option));

        Assert.Contains(option, error.Message);
        Assert.Contains("needs a value", error.Message);
    }

    [Fact]
    public void Should_not_take_the_next_option_as_a_value()
    {
        var error = Assert.Throws<HostSettingsException>(() => Parse("--data-dir", "--http-port", "1"));

        Assert.Contains("--data-dir needs a value", error.Message);
    }

    [Theory]
    [InlineData("--http-port", "abc")]
    [InlineData("--http-port", "-1")]
    [InlineData("--http-port", "65536")]
    [InlineData("--http-port", "80.5")]
    [InlineData("--http-port", "")]
    [InlineData("--akka-port", "99999999999")]
    [InlineData("--flush-interval", "10")]
    [InlineData("--flush-interval", "0s")]
    [InlineData("--flush-interval", "-1s")]
    [InlineData("--flush-interval", "1d")]
    [InlineData("--flush-interval", "25h")]
    [InlineData("--flush-interval", "fast")]
    [InlineData("--data-dir", " ")]
    [InlineData("--store", "mysql")]
    [InlineData("--store", "")]
    [InlineData("--seed-nodes", "127.0.0.1:4053")]
    [InlineData("--seed-nodes", "akka.tcp://other@127.0.0.1:4053")]
    [InlineData("--seed-nodes", "akka://writebehind@127.0.0.1:4053")]
    [InlineData("--seed-nodes", "akka.tcp://writebehind@127.0.0.1")]
    [InlineData("--seed-nodes", "akka.tcp://writebehind@127.0.0.1:4053,nonsense")]
    public void Should_refuse_bad_values(string option, string value)
    {
        var spaced = Assert.Throws<HostSettingsException>(() => Parse(option, value));
        var joined = Assert.Throws<HostSettingsException>(() => Parse($"{option}={value}"));

        Assert.StartsWith(option, spaced.Message);
        Assert.StartsWith(option, joined.Message);
    }

    [Fact]
    public void Should_accept_an_empty_seed_node_list_as_join_self()
    {
        Assert.Empty(Parse("--seed-nodes=").SeedNodes);
    }

    [Fact]
    public void Should_bind_to_loopback_and_use_seed_nodes_by_default()
    {
        var network = Parse().Network;

        Assert.Equal("127.0.0.1", network.Hostname);
        Assert.Equal("127.0.0.1", network.PublicHostname);
        Assert.Equal(System.Net.IPAddress.Loopback, network.HttpAddress);
        Assert.Equal(DiscoveryMode.SeedNodes, network.Discovery);
        Assert.Null(Parse().Security.ApiKey);
    }

    [Fact]
    public void Should_read_the_addresses_from_the_command_line_or_the_environment()
    {
        var network = Parse("--hostname", "127.0.0.2", "--public-hostname=node2.example", "--http-address", "127.0.0.2").Network;
        Assert.Equal("127.0.0.2", network.Hostname);
        Assert.Equal("node2.example", network.PublicHostname);
        Assert.Equal(System.Net.IPAddress.Parse("127.0.0.2"), network.HttpAddress);

        var environment = new Hashtable { ["WRITEBEHIND_HOSTNAME"] = "10.0.0.5", ["WRITEBEHIND_HTTP_ADDRESS"] = "127.0.0.3" };
        var fromEnvironment = ParseWithEnvironment(environment).Network;
        Assert.Equal("10.0.0.5", fromEnvironment.Hostname);
        Assert.Equal("10.0.0.5", fromEnvironment.PublicHostname); // the hostname when not given
        Assert.Equal(System.Net.IPAddress.Parse("127.0.0.3"), fromEnvironment.HttpAddress);
    }

    [Theory]
    [InlineData("--hostname", "not a host", "--hostname")]
    [InlineData("--http-address", "localhost", "--http-address")]
    [InlineData("--hostname", "0.0.0.0", "--public-hostname")]
    [InlineData("--discovery", "dns", "--discovery")]
    [InlineData("--discovery", "config", "--discovery-endpoints")]
    [InlineData("--discovery-endpoints", "10.0.0.1:8558", "only used with --discovery config")]
    [InlineData("--management-port", "70000", "--management-port")]
    [InlineData("--service-name", "Write Behind", "--service-name")]
    [InlineData("--api-key", "short", "at least 16 characters")]
    [InlineData("--discovery=kubernetes --management-port", "5080", "a port of its own")]
    [InlineData("--allow-anonymous=maybe", null, "--allow-anonymous")]
    public void Should_refuse_bad_network_and_security_values(string option, string? value, string named)
    {
        var args = option.Split(' ').Concat(value is null ? [] : new[] { value }).ToArray();
        var error = Assert.Throws<HostSettingsException>(() => Parse(args));

        Assert.Contains(named, error.Message);
    }

    [Fact]
    public void Should_read_config_discovery_with_its_endpoints()
    {
        var network = Parse("--discovery", "config", "--discovery-endpoints", "127.0.0.2:8558, 127.0.0.3:8558,127.0.0.4:8558",
            "--management-port", "8600").Network;

        Assert.Equal(DiscoveryMode.Config, network.Discovery);
        Assert.Equal(new[] { "127.0.0.2:8558", "127.0.0.3:8558", "127.0.0.4:8558" }, network.DiscoveryEndpoints);
        Assert.Equal(3, network.RequiredContactPoints);
        Assert.Equal(8600, network.ManagementPort);
        Assert.Equal(2, Parse("--discovery=config", "--discovery-endpoints=a:1,b:1,c:1", "--required-contact-points=2").Network.RequiredContactPoints);
        Assert.Equal(DiscoveryMode.Kubernetes, ParseWithEnvironment(new Hashtable { ["WRITEBEHIND_DISCOVERY"] = "kubernetes" }).Network.Discovery);
    }

    [Fact]
    public void Should_refuse_seed_nodes_next_to_bootstrap_discovery()
    {
        var error = Assert.Throws<HostSettingsException>(() => Parse("--seed-nodes", "akka.tcp://writebehind@127.0.0.1:4053",
            "--discovery", "kubernetes"));

        Assert.Contains("exclude each other", error.Message);
    }

    [Fact]
    public void Should_refuse_an_http_address_beyond_loopback_without_a_key()
    {
        var error = Assert.Throws<HostSettingsException>(() => Parse("--http-address", "0.0.0.0"));
        Assert.StartsWith("--http-address 0.0.0.0 is reachable from other machines", error.Message);
        Assert.Contains("--api-key", error.Message);
        Assert.Throws<HostSettingsException>(() => Parse("--http-address", "10.1.2.3"));

        Assert.True(Parse("--http-address", "0.0.0.0", "--allow-anonymous").Security.AllowAnonymous);
        Assert.True(ParseWithEnvironment(new Hashtable { ["WRITEBEHIND_ALLOW_ANONYMOUS"] = "true" }, "--http-address", "10.1.2.3").Security.AllowAnonymous);
        Assert.Equal(Key, Parse("--http-address", "0.0.0.0", "--api-key", Key).Security.ApiKey);
        Assert.Null(Parse("--http-address", "127.0.0.4").Security.ApiKey); // all of 127/8 is loopback
    }

    private const string Key = "0123456789abcdef0123";

    [Fact]
    public void Should_read_the_api_key_from_the_command_line_the_environment_or_a_file()
    {
        Assert.Equal(Key, Parse("--api-key", Key).Security.ApiKey);
        Assert.DoesNotContain(Key, Parse("--api-key", Key).ToString());
        Assert.Equal(Key, ParseWithEnvironment(new Hashtable { ["WRITEBEHIND_API_KEY"] = Key }).Security.ApiKey);
        Assert.True(Parse("--api-key", Key, "--metrics-anonymous").Security.MetricsAnonymous);
        Assert.False(Parse("--api-key", Key).Security.MetricsAnonymous);

        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, Key + "\n");
            Assert.Equal(Key, Parse("--api-key-file", file).Security.ApiKey);
            Assert.Contains("exclude each other", Assert.Throws<HostSettingsException>(() => Parse("--api-key-file", file, "--api-key", Key)).Message);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Should_read_an_appsettings_file_under_the_environment_and_the_command_line()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, """{ "WriteBehind": { "http-port": 6001, "flush-interval": "250ms", "hostname": "127.0.0.9", "akka-port": "x" } }""");
            var error = Assert.Throws<HostSettingsException>(() => HostSettings.Parse([], NoEnvironment, file));
            Assert.StartsWith("appsettings.json WriteBehind:akka-port", error.Message);

            var settings = HostSettings.Parse(["--akka-port", "6053", "--hostname", "127.0.0.8"],
                new Hashtable { ["WRITEBEHIND_HTTP_PORT"] = "6002" }, file);
            Assert.Equal(6002, settings.HttpPort);
            Assert.Equal(6053, settings.AkkaPort);
            Assert.Equal(TimeSpan.FromMilliseconds(250), settings.FlushInterval);
            Assert.Equal("127.0.0.8", settings.Network.Hostname);
        }
        finally
        {
            File.Delete(file);
        }

        Assert.Equal(5080, HostSettings.Parse([], NoEnvironment, file).HttpPort); // a missing file is no error
    }
}
