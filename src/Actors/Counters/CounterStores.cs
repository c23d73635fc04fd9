using Akka.Configuration;
using Akka.WriteBehind.Sql;

namespace Akka.WriteBehind.Counters;

/// <summary>The SQL databases the library's own <see cref="ICounterStore"/>s write to.</summary>
public enum CounterStorageProvider
{
    /// <summary>An embedded SQLite file (<see cref="SqliteCounterStore"/>), configured by <c>akka.write-behind.storage.sqlite</c>.</summary>
    Sqlite,

    /// <summary>A PostgreSQL server (<see cref="PostgresCounterStore"/>), configured by <c>akka.write-behind.storage.postgres</c>.</summary>
    Postgres,
}

/// <summary>Builds the counter store that <c>akka.write-behind.storage</c> chooses.</summary>
public static class CounterStores
{
    /// <summary>Path of the storage section.</summary>
    public const string ConfigPath = "akka.write-behind.storage";

    /// <summary>Path of the PostgreSQL section.</summary>
    public const string PostgresConfigPath = ConfigPath + ".postgres";

    /// <summary>
    /// The store of the configuration <paramref name="root"/> (library defaults as fallback): <c>provider = sqlite</c> builds a
    /// <see cref="SqliteCounterStore"/> (<see cref="SqliteStores.CounterStoreFromConfig"/>), <c>provider = postgres</c> a
    /// <see cref="PostgresCounterStore"/> on <c>postgres.connection-string</c>.
    /// </summary>
    /// <param name="root">The actor system's whole configuration.</param>
    /// <exception cref="ConfigurationException">An unknown provider, or the chosen provider's section is incomplete; the message names the key.</exception>
    public static ICounterStore FromConfig(Config root) => ProviderFromConfig(root) switch
    {
        CounterStorageProvider.Postgres => PostgresCounterStoreFromConfig(root),
        _ => SqliteStores.CounterStoreFromConfig(root),
    };

    /// <summary>The provider that <c>akka.write-behind.storage.provider</c> names (<c>sqlite</c> or <c>postgres</c>).</summary>
    /// <param name="root">The actor system's whole configuration.</param>
    /// <exception cref="ConfigurationException">Another value.</exception>
    public static CounterStorageProvider ProviderFromConfig(Config root)
    {
        var provider = WithDefaults(root).GetString(ConfigPath + ".provider", "sqlite");
        return provider.Trim().ToLowerInvariant() switch
        {
            "sqlite" => CounterStorageProvider.Sqlite,
            "postgres" => CounterStorageProvider.Postgres,
            _ => throw new ConfigurationException($"{ConfigPath}.provider = \"{provider}\" is not supported; use \"sqlite\" or \"postgres\"."),
        };
    }

    /// <summary>The PostgreSQL store of <c>akka.write-behind.storage.postgres</c>.</summary>
    /// <param name="root">The actor system's whole configuration.</param>
    /// <exception cref="ConfigurationException"><c>connection-string</c> is empty or invalid, or <c>max-pool-size</c> is not positive.</exception>
    public static PostgresCounterStore PostgresCounterStoreFromConfig(Config root)
    {
        var section = WithDefaults(root).GetConfig(PostgresConfigPath);
        var connectionString = section?.GetString("connection-string", "") ?? "";
        if (string.IsNullOrWhiteSpace(connectionString))
            throw new ConfigurationException($"{PostgresConfigPath}.connection-string must be set when {ConfigPath}.provider = postgres.");
        var maxPoolSize = section!.GetInt("max-pool-size", PostgresCounterStore.DefaultMaxPoolSize);
        if (maxPoolSize <= 0)
            throw new ConfigurationException($"{PostgresConfigPath}.max-pool-size must be > 0.");
        try
        {
            return new PostgresCounterStore(connectionString, maxPoolSize);
        }
        catch (ArgumentException e)
        {
            throw new ConfigurationException($"{PostgresConfigPath}.connection-string is not a valid Npgsql connection string: {e.Message}");
        }
    }

    /// <summary>
    /// Where the configured store writes, without credentials, as the Host prints it: <c>sqlite:/abs/path/writebehind.db</c>
    /// or <c>postgres:host:port/database</c>. Connects to nothing.
    /// </summary>
    /// <param name="root">The actor system's whole configuration.</param>
    /// <exception cref="ConfigurationException">As <see cref="FromConfig"/>.</exception>
    public static string Describe(Config root)
    {
        if (ProviderFromConfig(root) == CounterStorageProvider.Sqlite)
            return "sqlite:" + SqliteStores.CounterStoreFromConfig(root).DataSource;

        using var store = PostgresCounterStoreFromConfig(root);
        return "postgres:" + store.Description;
    }

    private static Config WithDefaults(Config root) => root.WithFallback(WriteBehindConfig.DefaultConfig());
}
