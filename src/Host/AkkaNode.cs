using Akka.Cluster.Hosting;
using Akka.Configuration;
using Akka.Discovery.KubernetesApi;
using Akka.Hosting;
using Akka.Management.Dsl;
using Akka.Management.Cluster.Bootstrap;
using Akka.Remote.Hosting;
using Akka.WriteBehind.Counters;
using Akka.WriteBehind.Hosting;
using Akka.WriteBehind.Samples.Accounts;
using Akka.WriteBehind.Sql;

namespace Akka.WriteBehind.Host;

/// <summary>
/// Akka.Hosting wiring of a node: HOCON layered as <c>hocon/node.conf</c>, then the store file (<c>hocon/sqlite.conf</c> or
/// <c>hocon/postgres.conf</c>), then
/// the command-line/environment options (rendered by the options objects and prepended), with the library's and Akka's
/// defaults behind all of them; remoting on the node's addresses, clustering (seed nodes or cluster bootstrap), write-behind counters and the accounts batch resource.
/// </summary>
public static class AkkaNode
{
    /// <summary>Node file, relative to the application's directory.</summary>
    public const string NodeConfFile = "hocon/node.conf";

    /// <summary>Store file of <c>--store sqlite</c>, relative to the application's directory.</summary>
    public const string SqliteConfFile = "hocon/sqlite.conf";

    /// <summary>Store file of <c>--store postgres</c>, relative to the application's directory.</summary>
    public const string PostgresConfFile = "hocon/postgres.conf";

    /// <summary>
    /// The node file and the store file of <paramref name="store"/>, the store file over the node file, and the user's
    /// <paramref name="configFile"/> (<c>--config</c>) over both.
    /// </summary>
    /// <param name="store">The store the node writes to.</param>
    /// <param name="configFile">The user's HOCON file, relative to the working directory; <c>null</c>: none.</param>
    /// <param name="baseDirectory">Directory holding <c>hocon/</c>; <b>Default</b>: the application's directory.</param>
    /// <exception cref="FileNotFoundException">A file is missing.</exception>
    /// <exception cref="Akka.Configuration.ConfigurationException">A file is not valid HOCON.</exception>
    public static Config LoadFileConfig(StorageProvider store, string? configFile = null, string? baseDirectory = null)
    {
        baseDirectory ??= AppContext.BaseDirectory;
        var node = ParseFile(Path.Combine(baseDirectory, NodeConfFile));
        var storeFile = store == StorageProvider.Postgres ? PostgresConfFile : SqliteConfFile;
        var files = ParseFile(Path.Combine(baseDirectory, storeFile)).WithFallback(node);
        return configFile is null ? files : ParseFile(Path.GetFullPath(configFile)).WithFallback(files);
    }

    /// <summary>Configures the actor system of a node.</summary>
    /// <param name="builder">The builder of <c>AddAkka</c>.</param>
    /// <param name="settings">The Host's options.</param>
    /// <param name="fileConfig">The layered files (<see cref="LoadFileConfig"/>).</param>
    public static AkkaConfigurationBuilder ConfigureNode(this AkkaConfigurationBuilder builder, HostSettings settings, Config fileConfig)
    {
        // files first as fallback of everything the options below prepend; the library defaults are appended after them
        builder.AddHocon(fileConfig, HoconAddMode.Append);
        var network = settings.Network;
        builder.WithRemoting(new RemoteOptions
        {
            HostName = network.Hostname,
            PublicHostName = network.PublicHostname,
            Port = settings.AkkaPort,
        });
        builder.WithClustering(new ClusterOptions
        {
            SeedNodes = settings.SeedNodes.IsEmpty ? null : settings.SeedNodes.ToArray(),
        });

        if (network.Discovery != DiscoveryMode.SeedNodes)
        {
            builder.WithBootstrapDiscovery(network);
        }
        else if (settings.SeedNodes.IsEmpty)
        {
            // no seed nodes: a one-node cluster. Joining the actual self address also works with --akka-port 0.
            builder.WithActors((system, _) =>
            {
                var cluster = Cluster.Cluster.Get(system);
                cluster.Join(cluster.SelfAddress);
            });
        }

        builder.WithWriteBehindCounters(options =>
        {
            options.FlushInterval = settings.FlushInterval;
            options.Durability = settings.Durability;
            options.SqliteDataDir = Path.GetFullPath(settings.DataDir);
            options.StorageProvider = settings.Store;
            options.ConnectionString = settings.ConnectionString;
        });

        // the accounts sample: batches of operations per account, next to the counters (their SQLite file, or their PostgreSQL
        // database with --store postgres; settings in node.conf)
        builder.WithWriteBehindBatches<Account>(options =>
        {
            options.TypeName = AccountOperations.TypeName;
            options.Handler = AccountOperations.Instance;
            options.StoreFactory = system =>
            {
                var store = AccountStores.FromConfig(system.Settings.Config);
                if (store is IDisposable disposable)
                    system.RegisterOnTermination(disposable.Dispose); // a PostgreSQL store holds a connection pool
                return store;
            };
        });
        // the refresh cache: items in the same database (refresh_items), refreshed over HTTP when --refresh-url is given
        builder.WithWriteBehindRefresh(options =>
        {
            options.ResyncPeriod = settings.ResyncPeriod;
            if (settings.RefreshUrl is { } url)
            {
                options.SyncerFactory = system =>
                {
                    var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
                    system.RegisterOnTermination(http.Dispose);
                    return new Akka.WriteBehind.Refresh.HttpItemSyncer(http, url);
                };
            }
        });
        return builder;
    }

    /// <summary>
    /// Cluster bootstrap (Akka.Management): contact points found in a fixed list (<see cref="DiscoveryMode.Config"/>) or
    /// through the Kubernetes API, probed at <c>/bootstrap/seed-nodes</c> on their management port. The first nodes to see
    /// <see cref="NetworkSettings.RequiredContactPoints"/> of each other form one cluster (the lowest address starts it); a
    /// node whose contact points report a running cluster joins it.
    /// </summary>
    /// <remarks>
    /// The bootstrap route is served by the Host's own Kestrel (<see cref="ClusterBootstrapRoute"/>), not by Akka.Management's
    /// HTTP endpoint: that one runs on Akka.Http.Shim, which needs Ceen.Httpd 0.9.9, and the 0.9.10 served instead fails
    /// to bind (MissingMethodException). The protocol on the wire is Akka.Management's own.
    /// </remarks>
    private static AkkaConfigurationBuilder WithBootstrapDiscovery(this AkkaConfigurationBuilder builder, NetworkSettings network)
    {
        builder.AddHocon($$"""
            akka.management.http {
              hostname = "{{network.PublicHostname}}"
              port = {{network.ManagementPort}}
            }
            akka.management.cluster.bootstrap.contact-point-discovery {
              service-name = "{{network.ServiceName}}"
              port-name = management
              required-contact-point-nr = {{network.RequiredContactPoints}}
              stable-margin = 3s
            }
            # a contact point that is not listening yet (its Kestrel starts after the actor system) is asked again soon
            akka.management.cluster.bootstrap.contact-point.probe-interval = 1s
            """, HoconAddMode.Prepend);
        if (network.Discovery == DiscoveryMode.Config)
        {
            var endpoints = string.Join(", ", network.DiscoveryEndpoints.Select(e => $"\"{e}\""));
            builder.AddHocon($$"""
                akka.discovery.method = config
                akka.discovery.config.services.{{network.ServiceName}}.endpoints = [{{endpoints}}]
                """, HoconAddMode.Prepend);
        }
        else
        {
            // pods labelled app=<service name> in the pod's own namespace (the service account needs pods: get, list)
            builder.WithKubernetesDiscovery("app={0}");
            builder.AddHocon("akka.discovery.method = kubernetes-api", HoconAddMode.Prepend);
        }

        builder.WithActors(async (system, _) =>
        {
            var bootstrap = ClusterBootstrap.Get(system);
            // what the management endpoint would tell it: the contact point this node is known by
            bootstrap.Routes(ManagementRouteProviderSettings.Create(
                new Uri($"http://{network.PublicHostname}:{network.ManagementPort}/"), readOnly: true));
            await bootstrap.Start().ConfigureAwait(false);
        });
        return builder;
    }

    private static Config ParseFile(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"HOCON file {path} is missing; it is copied next to the Host's assembly by the build.", path);
        return ConfigurationFactory.ParseString(File.ReadAllText(path));
    }
}
