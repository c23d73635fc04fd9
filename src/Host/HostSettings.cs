using System.Collections;
using System.Collections.Immutable;
using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Akka.Actor;
using Akka.WriteBehind.Counters;
using Akka.WriteBehind.Sql;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.CommandLine;
using Npgsql;

namespace Akka.WriteBehind.Host;

/// <summary>How a node finds the other members of its cluster.</summary>
public enum DiscoveryMode
{
    /// <summary>Through <c>--seed-nodes</c>, or alone (a one-node cluster) without them.</summary>
    SeedNodes,

    /// <summary>Akka.Management cluster bootstrap over a fixed list of management endpoints (<c>--discovery-endpoints</c>).</summary>
    Config,

    /// <summary>Akka.Management cluster bootstrap over the Kubernetes API: pods labelled <c>app=&lt;service name&gt;</c>.</summary>
    Kubernetes,
}

/// <summary>Where a node binds and how it finds the others (<c>--hostname</c>, <c>--discovery</c>, ...).</summary>
/// <param name="Hostname">Address Akka.Remote binds to. <b>Default</b>: 127.0.0.1.</param>
/// <param name="PublicHostname">Address the other nodes reach this one at. <b>Default</b>: <paramref name="Hostname"/>.</param>
/// <param name="HttpAddress">IP address the HTTP API binds to. <b>Default</b>: 127.0.0.1.</param>
/// <param name="Discovery">How the node finds the others. <b>Default</b>: <see cref="DiscoveryMode.SeedNodes"/>.</param>
/// <param name="DiscoveryEndpoints">The management endpoints (<c>host:port</c>) of every node, for <see cref="DiscoveryMode.Config"/>.</param>
/// <param name="ManagementPort">Port of the Akka.Management HTTP endpoint cluster bootstrap talks to. <b>Default</b>: 8558.</param>
/// <param name="ServiceName">Name the nodes are discovered under (the pods' <c>app</c> label on Kubernetes). <b>Default</b>: writebehind.</param>
/// <param name="RequiredContactPoints">How many nodes bootstrap must see before the first forms the cluster. <b>Default</b>: the number of endpoints, 3 on Kubernetes.</param>
public sealed record NetworkSettings(
    string Hostname,
    string PublicHostname,
    IPAddress HttpAddress,
    DiscoveryMode Discovery,
    ImmutableArray<string> DiscoveryEndpoints,
    int ManagementPort,
    string ServiceName,
    int RequiredContactPoints)
{
    /// <summary>The loopback defaults: one machine, nothing reachable from outside.</summary>
    public static readonly NetworkSettings Default = new("127.0.0.1", "127.0.0.1", IPAddress.Loopback, DiscoveryMode.SeedNodes,
        ImmutableArray<string>.Empty, 8558, HostSettings.ActorSystemName, 3);
}

/// <summary>Who may call the HTTP API (<c>--api-key</c>, ...).</summary>
/// <param name="ApiKey">The bearer key every endpoint but <c>/health</c> and <c>/ready</c> wants; <c>null</c>: none. <b>Default</b>: none.</param>
/// <param name="MetricsAnonymous"><c>/metrics</c> is served without the key (for a scraper on a private network). <b>Default</b>: false.</param>
/// <param name="AllowAnonymous">Serve without a key on an address that is not loopback. <b>Default</b>: false.</param>
public sealed record SecuritySettings(string? ApiKey, bool MetricsAnonymous, bool AllowAnonymous)
{
    /// <summary>No key.</summary>
    public static readonly SecuritySettings Default = new(null, false, false);

    // a record prints every property: the key never goes into a log line or an exception message this way
    private bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append($"ApiKey = {(ApiKey is null ? "none" : "***")}, MetricsAnonymous = {MetricsAnonymous}, AllowAnonymous = {AllowAnonymous}");
        return true;
    }
}

/// <summary>
/// The Host's options, read through .NET configuration: an optional <c>appsettings.json</c> in the working directory (section
/// <c>WriteBehind</c>, the option names as keys), then the environment variables <c>WRITEBEHIND_&lt;NAME&gt;</c> (upper case,
/// dashes as underscores), then the command line (<c>--name value</c> or <c>--name=value</c>). The later source wins; every
/// value is validated and a bad one names its source.
/// </summary>
/// <param name="HttpPort">Port of the HTTP API; 0 picks a free one. <b>Default</b>: 5080.</param>
/// <param name="AkkaPort">Akka.Remote port; 0 picks a free one. <b>Default</b>: 4053.</param>
/// <param name="DataDir">Directory of the SQLite database, relative to the working directory. <b>Default</b>: <c>./data</c>.</param>
/// <param name="SeedNodes">Cluster seed nodes; empty: the node joins itself (a one-node cluster). <b>Default</b>: empty.</param>
/// <param name="FlushInterval">How long counters accumulate before they flush. <b>Default</b>: 1s.</param>
/// <param name="Durability">When an increment is acknowledged: once journaled (<c>journal</c>) or once in memory (<c>memory</c>). <b>Default</b>: journal.</param>
/// <param name="Store">The database of the counters (and of the journal): <c>sqlite</c> (a file in <see cref="DataDir"/>) or <c>postgres</c>. <b>Default</b>: sqlite.</param>
/// <param name="ConnectionString">The Npgsql connection string of the PostgreSQL database; required with <c>--store postgres</c>, refused otherwise. <b>Default</b>: none.</param>
/// <param name="RefreshUrl">URL template (with <c>{id}</c>) the refresh cache GETs each item's state from; <c>null</c>: items are stored but not refreshed. <b>Default</b>: none.</param>
/// <param name="ResyncPeriod">How often the refresh cache re-syncs every item. <b>Default</b>: 10s.</param>
/// <param name="ConfigFile">
/// A HOCON file layered over the Host's own files (<c>hocon/node.conf</c> and the store file) and under the other options, to
/// tune any <c>akka.write-behind</c> or Akka setting (queue bounds, batch durations, TLS between nodes, ...) without
/// rebuilding; relative to the working directory. <b>Default</b>: none.
/// </param>
/// <param name="HelpRequested"><c>--help</c> was given: print <see cref="Usage"/> and exit.</param>
public sealed record HostSettings(
    int HttpPort,
    int AkkaPort,
    string DataDir,
    ImmutableArray<string> SeedNodes,
    TimeSpan FlushInterval,
    Akka.WriteBehind.Counters.CounterDurability Durability,
    StorageProvider Store,
    string? ConnectionString,
    string? RefreshUrl,
    TimeSpan ResyncPeriod,
    string? ConfigFile,
    bool HelpRequested)
{
    /// <summary>Name of the actor system; every node of a cluster uses it.</summary>
    public const string ActorSystemName = "writebehind";

    /// <summary>Prefix of the environment variables.</summary>
    public const string EnvironmentPrefix = "WRITEBEHIND_";

    /// <summary>Section of <c>appsettings.json</c> holding the options.</summary>
    public const string ConfigurationSection = "WriteBehind";

    /// <summary>The optional JSON file of options, in the working directory.</summary>
    public const string AppSettingsFile = "appsettings.json";

    /// <summary><c>--http-port</c>.</summary>
    public const string HttpPortOption = "http-port";

    /// <summary><c>--akka-port</c>.</summary>
    public const string AkkaPortOption = "akka-port";

    /// <summary><c>--data-dir</c>.</summary>
    public const string DataDirOption = "data-dir";

    /// <summary><c>--seed-nodes</c>.</summary>
    public const string SeedNodesOption = "seed-nodes";

    /// <summary><c>--flush-interval</c>.</summary>
    public const string FlushIntervalOption = "flush-interval";

    /// <summary><c>--durability</c>.</summary>
    public const string DurabilityOption = "durability";

    /// <summary><c>--store</c>.</summary>
    public const string StoreOption = "store";

    /// <summary><c>--connection-string</c>.</summary>
    public const string ConnectionStringOption = "connection-string";

    /// <summary><c>--refresh-url</c>.</summary>
    public const string RefreshUrlOption = "refresh-url";

    /// <summary><c>--resync-period</c>.</summary>
    public const string ResyncPeriodOption = "resync-period";

    /// <summary><c>--config</c>.</summary>
    public const string ConfigOption = "config";

    /// <summary><c>--hostname</c>.</summary>
    public const string HostnameOption = "hostname";

    /// <summary><c>--public-hostname</c>.</summary>
    public const string PublicHostnameOption = "public-hostname";

    /// <summary><c>--http-address</c>.</summary>
    public const string HttpAddressOption = "http-address";

    /// <summary><c>--discovery</c>.</summary>
    public const string DiscoveryOption = "discovery";

    /// <summary><c>--discovery-endpoints</c>.</summary>
    public const string DiscoveryEndpointsOption = "discovery-endpoints";

    /// <summary><c>--management-port</c>.</summary>
    public const string ManagementPortOption = "management-port";

    /// <summary><c>--service-name</c>.</summary>
    public const string ServiceNameOption = "service-name";

    /// <summary><c>--required-contact-points</c>.</summary>
    public const string RequiredContactPointsOption = "required-contact-points";

    /// <summary><c>--api-key</c>.</summary>
    public const string ApiKeyOption = "api-key";

    /// <summary><c>--api-key-file</c>.</summary>
    public const string ApiKeyFileOption = "api-key-file";

    /// <summary><c>--metrics-anonymous</c> (a flag).</summary>
    public const string MetricsAnonymousOption = "metrics-anonymous";

    /// <summary><c>--allow-anonymous</c> (a flag).</summary>
    public const string AllowAnonymousOption = "allow-anonymous";

    /// <summary><c>--help</c>.</summary>
    public const string HelpOption = "help";

    /// <summary>The settings when nothing is given.</summary>
    public static readonly HostSettings Default = new(
        HttpPort: 5080,
        AkkaPort: 4053,
        DataDir: "./data",
        SeedNodes: ImmutableArray<string>.Empty,
        FlushInterval: TimeSpan.FromSeconds(1),
        Durability: Akka.WriteBehind.Counters.CounterDurability.Journal,
        Store: StorageProvider.Sqlite,
        ConnectionString: null,
        RefreshUrl: null,
        ResyncPeriod: TimeSpan.FromSeconds(10),
        ConfigFile: null,
        HelpRequested: false);

    private static readonly string[] ValuedOptions =
    [
        HttpPortOption, AkkaPortOption, DataDirOption, SeedNodesOption, FlushIntervalOption, DurabilityOption, StoreOption,
        ConnectionStringOption, RefreshUrlOption, ResyncPeriodOption, ConfigOption, HostnameOption, PublicHostnameOption,
        HttpAddressOption, DiscoveryOption, DiscoveryEndpointsOption, ManagementPortOption, ServiceNameOption,
        RequiredContactPointsOption, ApiKeyOption, ApiKeyFileOption,
    ];

    // options that take no value on the command line ("--allow-anonymous"); true/false in the environment or the JSON file
    private static readonly string[] FlagOptions = [MetricsAnonymousOption, AllowAnonymousOption];

    /// <summary>Every option's name (without the leading <c>--</c>), valued and flag options alike; <c>--help</c> aside.</summary>
    public static IReadOnlyList<string> OptionNames => [.. ValuedOptions, .. FlagOptions];

    private static readonly Regex DurationPattern = new(
        @"^\s*(?<n>\d+(\.\d+)?)\s*(?<unit>ms|s|m|h)\s*$", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase);

    /// <summary>Where the node binds and how it finds the others. <b>Default</b>: <see cref="NetworkSettings.Default"/>.</summary>
    public NetworkSettings Network { get; init; } = NetworkSettings.Default;

    /// <summary>Who may call the HTTP API. <b>Default</b>: <see cref="SecuritySettings.Default"/>.</summary>
    public SecuritySettings Security { get; init; } = SecuritySettings.Default;

    /// <summary>Command-line help.</summary>
    public static string Usage { get; } = """
        Usage: Akka.WriteBehind.Host [options]

        Starts an Akka.WriteBehind cluster node. Every option is also read from the environment variable shown and from
        the "WriteBehind" section of ./appsettings.json (option names as keys); the command line wins over the environment,
        the environment over the file. See docs/host-options.md.

          --http-port <port>         HTTP API port, 0 = any free port        [WRITEBEHIND_HTTP_PORT]      default 5080
          --akka-port <port>         Akka.Remote port, 0 = any free port     [WRITEBEHIND_AKKA_PORT]      default 4053
          --data-dir <dir>           SQLite data directory                   [WRITEBEHIND_DATA_DIR]       default ./data
          --seed-nodes <addresses>   comma-separated seed nodes, e.g.        [WRITEBEHIND_SEED_NODES]     default: join itself
                                     akka.tcp://writebehind@127.0.0.1:4053
          --flush-interval <dur>     counter flush interval: 500ms, 2s, 1m   [WRITEBEHIND_FLUSH_INTERVAL] default 1s
          --durability <mode>        journal: acknowledge once journaled     [WRITEBEHIND_DURABILITY]     default journal
                                     memory: acknowledge once in memory
          --store <store>            sqlite: the file writebehind.db         [WRITEBEHIND_STORE]          default sqlite
                                     in --data-dir (journal: journal.db)
                                     postgres: a PostgreSQL database (counters
                                     and journal), needs --connection-string
          --connection-string <cs>   Npgsql connection string for            [WRITEBEHIND_CONNECTION_STRING]
                                     --store postgres, e.g.
                                     "Host=127.0.0.1;Port=5432;Database=wb;Username=app;Password=secret"
          --refresh-url <template>   URL the refresh cache GETs each item's  [WRITEBEHIND_REFRESH_URL]    default: none
                                     state from, {id} = the item's id, e.g.  (items are stored, not refreshed)
                                     http://127.0.0.1:9000/jobs/{id}
                                     (200: new state; 404/410: deleted;
                                     "terminal": true in the JSON: stop)
          --resync-period <dur>      how often every item is re-synced       [WRITEBEHIND_RESYNC_PERIOD]  default 10s
          --config <file>            a HOCON file over the Host's own        [WRITEBEHIND_CONFIG]         default: none
                                     (hocon/node.conf, store file) and under
                                     these options: any akka.write-behind or
                                     Akka setting, e.g. queue bounds, TLS

        Several machines:
          --hostname <host>          address Akka.Remote binds to            [WRITEBEHIND_HOSTNAME]       default 127.0.0.1
          --public-hostname <host>   address other nodes reach this one at   [WRITEBEHIND_PUBLIC_HOSTNAME] default --hostname
          --http-address <ip>        address the HTTP API binds to           [WRITEBEHIND_HTTP_ADDRESS]   default 127.0.0.1
          --discovery <how>          seed-nodes: --seed-nodes or alone       [WRITEBEHIND_DISCOVERY]      default seed-nodes
                                     config: cluster bootstrap over
                                     --discovery-endpoints
                                     kubernetes: cluster bootstrap over the
                                     Kubernetes API (pods app=--service-name)
          --discovery-endpoints <l>  every node's management endpoint,       [WRITEBEHIND_DISCOVERY_ENDPOINTS]
                                     host:port comma-separated (config)
          --management-port <port>   Akka.Management HTTP port (bootstrap)   [WRITEBEHIND_MANAGEMENT_PORT] default 8558
          --service-name <name>      name the nodes are discovered under     [WRITEBEHIND_SERVICE_NAME]   default writebehind
          --required-contact-points <n> nodes bootstrap waits for before     [WRITEBEHIND_REQUIRED_CONTACT_POINTS]
                                     forming a new cluster                   default: endpoints listed, 3 on Kubernetes

        Security:
          --api-key <key>            bearer key wanted on every endpoint     [WRITEBEHIND_API_KEY]        default: none
                                     but /health and /ready
          --api-key-file <file>      read the key from a file (a secret)     [WRITEBEHIND_API_KEY_FILE]
          --metrics-anonymous        serve /metrics without the key          [WRITEBEHIND_METRICS_ANONYMOUS=true]
          --allow-anonymous          serve without a key on an address that  [WRITEBEHIND_ALLOW_ANONYMOUS=true]
                                     is not loopback (else: refused, exit 2)
          --help                     print this help and exit

        Both "--name value" and "--name=value" are accepted.
        """;

    /// <summary>The environment variable of <paramref name="option"/> (without dashes): <c>http-port</c> → <c>WRITEBEHIND_HTTP_PORT</c>.</summary>
    /// <param name="option">The option name, e.g. <c>http-port</c>.</param>
    public static string EnvironmentVariableName(string option) =>
        EnvironmentPrefix + option.ToUpperInvariant().Replace('-', '_');

    /// <summary>
    /// Reads the settings from <paramref name="args"/>, over <paramref name="environment"/>, over the optional
    /// <paramref name="appSettingsFile"/>, over <see cref="Default"/>. Empty environment variables count as unset.
    /// </summary>
    /// <param name="args">The command-line arguments.</param>
    /// <param name="environment">Environment variables, as from <see cref="Environment.GetEnvironmentVariables()"/>.</param>
    /// <param name="appSettingsFile">A JSON file with a <c>WriteBehind</c> section; <c>null</c> or missing: none.</param>
    /// <exception cref="HostSettingsException">An unknown option, a missing value or a bad value; the message names it.</exception>
    public static HostSettings Parse(IReadOnlyList<string> args, IDictionary environment, string? appSettingsFile = null)
    {
        if (args.Any(a => a is "--help" or "-h"))
            return Default with { HelpRequested = true };

        var builder = new ConfigurationBuilder();
        if (appSettingsFile is not null && File.Exists(appSettingsFile))
            builder.AddJsonFile(Path.GetFullPath(appSettingsFile), optional: true, reloadOnChange: false);
        builder.AddInMemoryCollection(EnvironmentValues(environment));
        builder.AddCommandLine(NormalizeCommandLine(args).ToArray());
        var root = builder.Build();
        return new Reader(root).Read();
    }

    /// <summary>
    /// Parses a positive duration: a number and a unit, <c>ms</c>, <c>s</c>, <c>m</c> or <c>h</c> (<c>500ms</c>, <c>2s</c>,
    /// <c>1.5m</c>).
    /// </summary>
    /// <param name="text">The text.</param>
    /// <param name="source">The option or variable it came from, for the error message.</param>
    /// <exception cref="HostSettingsException">Not such a duration, or not positive.</exception>
    public static TimeSpan ParseDuration(string text, string source)
    {
        var match = DurationPattern.Match(text);
        if (!match.Success || !double.TryParse(match.Groups["n"].Value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var n))
            throw new HostSettingsException($"{source}: '{text}' is not a duration; use a number and a unit (ms, s, m, h), e.g. 500ms, 2s, 1m.");

        var ms = match.Groups["unit"].Value.ToLowerInvariant() switch
        {
            "ms" => n,
            "s" => n * 1_000,
            "m" => n * 60_000,
            _ => n * 3_600_000,
        };
        if (ms < 1 || ms > TimeSpan.FromDays(1).TotalMilliseconds)
            throw new HostSettingsException($"{source}: '{text}' is out of range; use at least 1ms and at most 24h.");
        return TimeSpan.FromMilliseconds(ms);
    }

    // WRITEBEHIND_HTTP_PORT=6000 -> WriteBehind:http-port=6000, only for known options (others are not ours)
    private static IEnumerable<KeyValuePair<string, string?>> EnvironmentValues(IDictionary environment) =>
        ValuedOptions.Concat(FlagOptions)
            .Select(option => (option, value: environment[EnvironmentVariableName(option)] as string))
            .Where(e => !string.IsNullOrEmpty(e.value))
            .Select(e => KeyValuePair.Create<string, string?>($"{ConfigurationSection}:{e.option}", e.value));

    // The configuration provider is lenient (it skips what it does not understand); the Host refuses unknown options,
    // positional arguments and missing values, and hands the provider one --section:name=value per option.
    private static IEnumerable<string> NormalizeCommandLine(IReadOnlyList<string> args)
    {
        var normalized = new List<string>();
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal) || arg.Length == 2)
                throw new HostSettingsException($"Unexpected argument '{arg}': options start with --.");

            var equals = arg.IndexOf('=', StringComparison.Ordinal);
            var option = equals < 0 ? arg[2..] : arg[2..equals];
            string value;
            if (FlagOptions.Contains(option, StringComparer.Ordinal))
            {
                value = equals < 0 ? "true" : arg[(equals + 1)..];
            }
            else if (!ValuedOptions.Contains(option, StringComparer.Ordinal))
            {
                throw new HostSettingsException(option == HelpOption ? "--help takes no value." : $"Unknown option '--{option}'.");
            }
            else if (equals >= 0)
            {
                value = arg[(equals + 1)..];
            }
            else
            {
                if (i + 1 >= args.Count || args[i + 1].StartsWith("--", StringComparison.Ordinal))
                    throw new HostSettingsException($"--{option} needs a value.");
                value = args[++i];
            }

            normalized.Add($"--{ConfigurationSection}:{option}={value}");
        }

        return normalized;
    }

    /// <summary>Reads and validates each option from the layered configuration, naming the source of a bad value.</summary>
    private sealed class Reader(IConfigurationRoot root)
    {
        private readonly IConfigurationSection _section = root.GetSection(ConfigurationSection);

        public HostSettings Read()
        {
            var settings = Default with
            {
                HttpPort = Port(HttpPortOption) ?? Default.HttpPort,
                AkkaPort = Port(AkkaPortOption) ?? Default.AkkaPort,
                DataDir = NonEmpty(DataDirOption, "the data directory") ?? Default.DataDir,
                SeedNodes = Value(SeedNodesOption) is { } seeds ? ParseSeedNodes(seeds, Source(SeedNodesOption)) : Default.SeedNodes,
                FlushInterval = Duration(FlushIntervalOption) ?? Default.FlushInterval,
                Durability = Choice(DurabilityOption, "durability", Default.Durability,
                    ("journal", Akka.WriteBehind.Counters.CounterDurability.Journal), ("memory", Akka.WriteBehind.Counters.CounterDurability.Memory)),
                Store = Choice(StoreOption, "store", Default.Store,
                    ("sqlite", StorageProvider.Sqlite), ("postgres", StorageProvider.Postgres)),
                RefreshUrl = RefreshUrl(),
                ResyncPeriod = Duration(ResyncPeriodOption) ?? Default.ResyncPeriod,
                ConfigFile = ExistingFile(ConfigOption),
            };
            settings = settings with
            {
                ConnectionString = CheckConnectionString(settings.Store, Value(ConnectionStringOption), Source(ConnectionStringOption)),
                Network = ReadNetwork(settings),
            };
            return settings with { Security = ReadSecurity(settings.Network) };
        }

        private NetworkSettings ReadNetwork(HostSettings settings)
        {
            var hostname = Host(HostnameOption) ?? NetworkSettings.Default.Hostname;
            var publicHostname = Host(PublicHostnameOption);
            if (publicHostname is null && IPAddress.TryParse(hostname, out var any) && (any.Equals(IPAddress.Any) || any.Equals(IPAddress.IPv6Any)))
                throw new HostSettingsException($"{Source(HostnameOption)} {hostname} binds every interface; give --{PublicHostnameOption}, " +
                                                "the address the other nodes reach this one at.");

            var httpAddress = NetworkSettings.Default.HttpAddress;
            if (Value(HttpAddressOption) is { } http && !IPAddress.TryParse(http.Trim(), out httpAddress))
                throw new HostSettingsException($"{Source(HttpAddressOption)}: '{http}' is not an IP address, e.g. 127.0.0.1, 10.0.0.5 or 0.0.0.0.");

            var discovery = Choice(DiscoveryOption, "discovery", DiscoveryMode.SeedNodes,
                ("seed-nodes", DiscoveryMode.SeedNodes), ("config", DiscoveryMode.Config), ("kubernetes", DiscoveryMode.Kubernetes));
            var endpoints = Value(DiscoveryEndpointsOption) is { } list ? ParseEndpoints(list) : ImmutableArray<string>.Empty;
            if (discovery != DiscoveryMode.SeedNodes && !settings.SeedNodes.IsEmpty)
                throw new HostSettingsException($"{Source(SeedNodesOption)} and --{DiscoveryOption} {Value(DiscoveryOption)} exclude each other: " +
                                                "seed nodes are found by cluster bootstrap.");
            if (discovery == DiscoveryMode.Config && endpoints.IsEmpty)
                throw new HostSettingsException($"--{DiscoveryOption} config needs --{DiscoveryEndpointsOption} " +
                                                $"({EnvironmentVariableName(DiscoveryEndpointsOption)}), every node's management endpoint, " +
                                                "e.g. 10.0.0.1:8558,10.0.0.2:8558,10.0.0.3:8558.");
            if (discovery != DiscoveryMode.Config && !endpoints.IsEmpty)
                throw new HostSettingsException($"{Source(DiscoveryEndpointsOption)} is only used with --{DiscoveryOption} config.");

            var required = Value(RequiredContactPointsOption) is { } n
                ? int.TryParse(n, NumberStyles.None, CultureInfo.InvariantCulture, out var count) && count is >= 1 and <= 1000
                    ? count
                    : throw new HostSettingsException($"{Source(RequiredContactPointsOption)}: '{n}' is not a number of nodes (1-1000).")
                : discovery == DiscoveryMode.Config ? endpoints.Length : NetworkSettings.Default.RequiredContactPoints;
            var serviceName = NonEmpty(ServiceNameOption, "the service name") ?? NetworkSettings.Default.ServiceName;
            if (!Regex.IsMatch(serviceName, "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", RegexOptions.CultureInvariant))
                throw new HostSettingsException($"{Source(ServiceNameOption)}: '{serviceName}' is not a DNS label (a-z, 0-9, dashes).");

            var managementPort = Port(ManagementPortOption) ?? NetworkSettings.Default.ManagementPort;
            if (discovery != DiscoveryMode.SeedNodes && (managementPort == settings.HttpPort || managementPort == settings.AkkaPort))
                throw new HostSettingsException($"{Source(ManagementPortOption)} {managementPort} is also the HTTP or the Akka port; " +
                                                "cluster bootstrap needs a port of its own.");
            return new NetworkSettings(hostname, publicHostname ?? hostname, httpAddress!, discovery, endpoints, managementPort,
                serviceName, required);
        }

        private SecuritySettings ReadSecurity(NetworkSettings network)
        {
            var key = Value(ApiKeyOption);
            var keyFile = ExistingFile(ApiKeyFileOption);
            if (key is not null && keyFile is not null)
                throw new HostSettingsException($"{Source(ApiKeyOption)} and {Source(ApiKeyFileOption)} exclude each other; give one.");
            var keySource = Source(ApiKeyOption);
            if (keyFile is not null)
            {
                key = File.ReadAllText(keyFile).Trim();
                keySource = Source(ApiKeyFileOption);
            }

            // a key short enough to guess is no key: refused rather than accepted in silence
            if (key is not null && (key.Length < 16 || key.Any(char.IsWhiteSpace)))
                throw new HostSettingsException($"{keySource}: the API key must be at least 16 characters without spaces, " +
                                                "e.g. from `openssl rand -hex 32`.");

            var security = new SecuritySettings(key, Flag(MetricsAnonymousOption), Flag(AllowAnonymousOption));
            if (security.ApiKey is null && !security.AllowAnonymous && !IPAddress.IsLoopback(network.HttpAddress))
                throw new HostSettingsException(
                    $"--{HttpAddressOption} {network.HttpAddress} is reachable from other machines, and no --{ApiKeyOption} " +
                    $"({EnvironmentVariableName(ApiKeyOption)}) or --{ApiKeyFileOption} is given: anyone who reaches it could " +
                    $"change every counter and account. Give a key, or --{AllowAnonymousOption} if the network is trusted.");
            return security;
        }

        private string? Value(string option) => _section[option];

        // the provider that answered last wins: name the command-line option, the environment variable or the file key
        private string Source(string option)
        {
            var key = $"{ConfigurationSection}:{option}";
            var provider = root.Providers.LastOrDefault(p => p.TryGet(key, out _));
            return provider switch
            {
                CommandLineConfigurationProvider => "--" + option,
                Microsoft.Extensions.Configuration.Json.JsonConfigurationProvider => $"{AppSettingsFile} {ConfigurationSection}:{option}",
                _ => EnvironmentVariableName(option),
            };
        }

        private int? Port(string option)
        {
            if (Value(option) is not { } text)
                return null;
            if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > 65535)
                throw new HostSettingsException($"{Source(option)}: '{text}' is not a port number (0-65535).");
            return port;
        }

        private TimeSpan? Duration(string option) => Value(option) is { } text ? ParseDuration(text, Source(option)) : null;

        private string? NonEmpty(string option, string what)
        {
            var text = Value(option);
            if (text is not null && string.IsNullOrWhiteSpace(text))
                throw new HostSettingsException($"{Source(option)}: {what} must not be empty.");
            return text;
        }

        private bool Flag(string option) => Value(option) switch
        {
            null => false,
            var text when bool.TryParse(text.Trim(), out var flag) => flag,
            var text => throw new HostSettingsException($"{Source(option)}: '{text}' is not true or false."),
        };

        private T Choice<T>(string option, string what, T fallback, params (string Name, T Value)[] choices)
        {
            if (Value(option) is not { } text)
                return fallback;
            foreach (var (name, value) in choices)
            {
                if (string.Equals(text.Trim(), name, StringComparison.OrdinalIgnoreCase))
                    return value;
            }

            throw new HostSettingsException($"{Source(option)}: \"{text}\" is not a {what}; use {string.Join(" or ", choices.Select(c => c.Name))}.");
        }

        private string? Host(string option)
        {
            if (NonEmpty(option, "the address") is not { } text)
                return null;
            text = text.Trim();
            if (Uri.CheckHostName(text) == UriHostNameType.Unknown)
                throw new HostSettingsException($"{Source(option)}: '{text}' is not a host name or an IP address.");
            return text;
        }

        private string? RefreshUrl()
        {
            if (Value(RefreshUrlOption) is not { } url)
                return null;
            if (!Akka.WriteBehind.Refresh.HttpItemSyncer.IsValidTemplate(url, out var why))
                throw new HostSettingsException($"{Source(RefreshUrlOption)}: {why}.");
            return url;
        }

        private string? ExistingFile(string option)
        {
            if (NonEmpty(option, "the file name") is not { } file)
                return null;
            if (!File.Exists(file))
                throw new HostSettingsException($"{Source(option)}: no file '{file}' (relative to {Environment.CurrentDirectory}).");
            return file;
        }

        private ImmutableArray<string> ParseEndpoints(string text)
        {
            var endpoints = ImmutableArray.CreateBuilder<string>();
            foreach (var part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                var colon = part.LastIndexOf(':');
                if (colon <= 0 || Uri.CheckHostName(part[..colon]) == UriHostNameType.Unknown
                               || !int.TryParse(part[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port)
                               || port is < 1 or > 65535)
                    throw new HostSettingsException($"{Source(DiscoveryEndpointsOption)}: '{part}' is not host:port, like 10.0.0.1:8558.");
                endpoints.Add(part);
            }

            return endpoints.ToImmutable();
        }
    }

    private static string? CheckConnectionString(StorageProvider store, string? text, string source)
    {
        var storeOption = $"--{StoreOption} {store.ToString().ToLowerInvariant()}";
        if (store != StorageProvider.Postgres)
        {
            if (text is not null)
                throw new HostSettingsException($"{source} is only used with --{StoreOption} postgres; {storeOption} keeps its data in --{DataDirOption}.");
            return null;
        }

        if (string.IsNullOrWhiteSpace(text))
            throw new HostSettingsException(
                $"{storeOption} needs --{ConnectionStringOption} ({EnvironmentVariableName(ConnectionStringOption)}), the Npgsql connection string of the " +
                "database, e.g. \"Host=127.0.0.1;Port=5432;Database=writebehind;Username=app;Password=secret\".");

        try
        {
            _ = new NpgsqlConnectionStringBuilder(text);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidCastException)
        {
            // the message names the bad keyword or value, never the whole string (it may hold a password)
            throw new HostSettingsException($"{source}: not a valid Npgsql connection string ({e.Message}).");
        }

        return text;
    }

    private static ImmutableArray<string> ParseSeedNodes(string text, string source)
    {
        var seeds = ImmutableArray.CreateBuilder<string>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            Address address;
            try
            {
                address = Address.Parse(part);
            }
            catch (UriFormatException e)
            {
                throw new HostSettingsException($"{source}: '{part}' is not an Akka address like akka.tcp://{ActorSystemName}@127.0.0.1:4053 ({e.Message}).");
            }

            // akka.ssl.tcp: the nodes' transport has TLS on (docs/deployment.md)
            if (address.Protocol is not ("akka.tcp" or "akka.ssl.tcp"))
                throw new HostSettingsException($"{source}: '{part}' uses the protocol '{address.Protocol}'; nodes talk akka.tcp " +
                                                $"(akka.ssl.tcp with TLS), like akka.tcp://{ActorSystemName}@127.0.0.1:4053.");
            if (address.Host is null || address.Port is null or <= 0 or > 65535)
                throw new HostSettingsException($"{source}: '{part}' needs a host and a port, like akka.tcp://{ActorSystemName}@127.0.0.1:4053.");
            if (address.System != ActorSystemName)
                throw new HostSettingsException($"{source}: '{part}' names the actor system '{address.System}'; every node's is '{ActorSystemName}'.");
            seeds.Add(address.ToString());
        }

        return seeds.ToImmutable();
    }
}

/// <summary>The command line or the environment holds an unknown option or a bad value.</summary>
public sealed class HostSettingsException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong, naming the option or environment variable.</param>
    public HostSettingsException(string message) : base(message)
    {
    }
}
