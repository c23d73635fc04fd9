using System.Collections;
using System.Collections.Immutable;
using System.Globalization;
using System.Text.RegularExpressions;
using Akka.Actor;
using Akka.WriteBehind.Storage;
using Npgsql;

namespace Akka.WriteBehind.Host;

/// <summary>
/// The Host's options, from the command line (<c>--name value</c> or <c>--name=value</c>) with environment variables
/// <c>WRITEBEHIND_&lt;NAME&gt;</c> (upper case, dashes as underscores) as fallback. The command line wins.
/// </summary>
/// <param name="HttpPort">Port of the HTTP API on 127.0.0.1; 0 picks a free one. <b>Default</b>: 5080.</param>
/// <param name="AkkaPort">Akka.Remote port on 127.0.0.1; 0 picks a free one. <b>Default</b>: 4053.</param>
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
/// tune any <c>akka.write-behind</c> or Akka setting (queue bounds, batch durations, ...) without rebuilding; relative to
/// the working directory. <b>Default</b>: none.
/// </param>
/// <param name="HelpRequested"><c>--help</c> was given: print <see cref="Usage"/> and exit.</param>
public sealed record HostSettings(
    int HttpPort,
    int AkkaPort,
    string DataDir,
    ImmutableArray<string> SeedNodes,
    TimeSpan FlushInterval,
    Akka.WriteBehind.Counters.CounterDurability Durability,
    CounterStorageProvider Store,
    string? ConnectionString,
    string? RefreshUrl,
    TimeSpan ResyncPeriod,
    string? ConfigFile,
    bool HelpRequested)
{
    /// <summary>Name of the actor system; every node of a cluster uses it.</summary>
    public const string ActorSystemName = "writebehind";

    /// <summary>Address the HTTP API and Akka.Remote bind to.</summary>
    public const string Hostname = "127.0.0.1";

    /// <summary>Prefix of the environment variables.</summary>
    public const string EnvironmentPrefix = "WRITEBEHIND_";

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
        Store: CounterStorageProvider.Sqlite,
        ConnectionString: null,
        RefreshUrl: null,
        ResyncPeriod: TimeSpan.FromSeconds(10),
        ConfigFile: null,
        HelpRequested: false);

    private static readonly string[] ValuedOptions =
    [
        HttpPortOption, AkkaPortOption, DataDirOption, SeedNodesOption, FlushIntervalOption, DurabilityOption, StoreOption, ConnectionStringOption,
        RefreshUrlOption, ResyncPeriodOption, ConfigOption,
    ];

    private static readonly Regex DurationPattern = new(
        @"^\s*(?<n>\d+(\.\d+)?)\s*(?<unit>ms|s|m|h)\s*$", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase);

    /// <summary>Command-line help.</summary>
    public static string Usage { get; } = """
        Usage: Akka.WriteBehind.Host [options]

        Starts an Akka.WriteBehind cluster node with the HTTP API on 127.0.0.1.

        Options (each also read from the environment variable shown; the command line wins):
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
                                     Akka setting, e.g. queue bounds
          --help                     print this help and exit

        Both "--name value" and "--name=value" are accepted.
        """;

    /// <summary>The environment variable of <paramref name="option"/> (without dashes): <c>http-port</c> → <c>WRITEBEHIND_HTTP_PORT</c>.</summary>
    /// <param name="option">The option name, e.g. <c>http-port</c>.</param>
    public static string EnvironmentVariableName(string option) =>
        EnvironmentPrefix + option.ToUpperInvariant().Replace('-', '_');

    /// <summary>
    /// Reads the settings from <paramref name="args"/>, falling back to <paramref name="environment"/>, then to
    /// <see cref="Default"/>. Empty environment variables count as unset.
    /// </summary>
    /// <param name="args">The command-line arguments.</param>
    /// <param name="environment">Environment variables, as from <see cref="Environment.GetEnvironmentVariables()"/>.</param>
    /// <exception cref="HostSettingsException">An unknown option, a missing value or a bad value; the message names it.</exception>
    public static HostSettings Parse(IReadOnlyList<string> args, IDictionary environment)
    {
        if (args.Any(a => a is "--help" or "-h"))
            return Default with { HelpRequested = true };

        // (value, where it came from) per option: environment first, then the command line over it
        var raw = new Dictionary<string, (string Value, string Source)>(StringComparer.Ordinal);
        foreach (var option in ValuedOptions)
        {
            var name = EnvironmentVariableName(option);
            if (environment[name] is string value && value.Length > 0)
                raw[option] = (value, name);
        }

        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal) || arg.Length == 2)
                throw new HostSettingsException($"Unexpected argument '{arg}': options start with --.");

            var equals = arg.IndexOf('=', StringComparison.Ordinal);
            var option = equals < 0 ? arg[2..] : arg[2..equals];
            if (!ValuedOptions.Contains(option, StringComparer.Ordinal))
                throw new HostSettingsException(option == HelpOption
                    ? "--help takes no value."
                    : $"Unknown option '--{option}'.");

            string value;
            if (equals >= 0)
            {
                value = arg[(equals + 1)..];
            }
            else
            {
                if (i + 1 >= args.Count || args[i + 1].StartsWith("--", StringComparison.Ordinal))
                    throw new HostSettingsException($"--{option} needs a value.");
                value = args[++i];
            }

            raw[option] = (value, "--" + option);
        }

        var settings = Default;
        if (raw.TryGetValue(HttpPortOption, out var httpPort))
            settings = settings with { HttpPort = ParsePort(httpPort.Value, httpPort.Source) };
        if (raw.TryGetValue(AkkaPortOption, out var akkaPort))
            settings = settings with { AkkaPort = ParsePort(akkaPort.Value, akkaPort.Source) };
        if (raw.TryGetValue(DataDirOption, out var dataDir))
        {
            if (string.IsNullOrWhiteSpace(dataDir.Value))
                throw new HostSettingsException($"{dataDir.Source}: the data directory must not be empty.");
            settings = settings with { DataDir = dataDir.Value };
        }

        if (raw.TryGetValue(SeedNodesOption, out var seeds))
            settings = settings with { SeedNodes = ParseSeedNodes(seeds.Value, seeds.Source) };
        if (raw.TryGetValue(FlushIntervalOption, out var flush))
            settings = settings with { FlushInterval = ParseDuration(flush.Value, flush.Source) };
        if (raw.TryGetValue(DurabilityOption, out var durability))
        {
            settings = settings with
            {
                Durability = durability.Value.Trim().ToLowerInvariant() switch
                {
                    "journal" => Akka.WriteBehind.Counters.CounterDurability.Journal,
                    "memory" => Akka.WriteBehind.Counters.CounterDurability.Memory,
                    _ => throw new HostSettingsException($"{durability.Source}: \"{durability.Value}\" is not a durability; use journal or memory."),
                },
            };
        }

        if (raw.TryGetValue(StoreOption, out var store))
        {
            settings = settings with
            {
                Store = store.Value.Trim().ToLowerInvariant() switch
                {
                    "sqlite" => CounterStorageProvider.Sqlite,
                    "postgres" => CounterStorageProvider.Postgres,
                    _ => throw new HostSettingsException($"{store.Source}: \"{store.Value}\" is not a store; use sqlite or postgres."),
                },
            };
        }

        if (raw.TryGetValue(RefreshUrlOption, out var refreshUrl))
        {
            if (!Akka.WriteBehind.Refresh.HttpItemSyncer.IsValidTemplate(refreshUrl.Value, out var why))
                throw new HostSettingsException($"{refreshUrl.Source}: {why}.");
            settings = settings with { RefreshUrl = refreshUrl.Value };
        }

        if (raw.TryGetValue(ResyncPeriodOption, out var resync))
            settings = settings with { ResyncPeriod = ParseDuration(resync.Value, resync.Source) };

        if (raw.TryGetValue(ConfigOption, out var config))
        {
            if (string.IsNullOrWhiteSpace(config.Value))
                throw new HostSettingsException($"{config.Source}: the file name must not be empty.");
            if (!File.Exists(config.Value))
                throw new HostSettingsException($"{config.Source}: no file '{config.Value}' (relative to {Environment.CurrentDirectory}).");
            settings = settings with { ConfigFile = config.Value };
        }

        raw.TryGetValue(ConnectionStringOption, out var connectionString);
        return settings with { ConnectionString = CheckConnectionString(settings.Store, connectionString.Value, connectionString.Source) };
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

    private static string? CheckConnectionString(CounterStorageProvider store, string? text, string? source)
    {
        var storeOption = $"--{StoreOption} {store.ToString().ToLowerInvariant()}";
        if (store != CounterStorageProvider.Postgres)
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

    private static int ParsePort(string text, string source)
    {
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > 65535)
            throw new HostSettingsException($"{source}: '{text}' is not a port number (0-65535).");
        return port;
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

            if (address.Protocol != "akka.tcp")
                throw new HostSettingsException($"{source}: '{part}' uses the protocol '{address.Protocol}'; nodes talk akka.tcp, like akka.tcp://{ActorSystemName}@127.0.0.1:4053.");
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
