using Akka.Configuration;

namespace Akka.WriteBehind.Sql;

/// <summary>The SQL databases the library's own stores write to.</summary>
public enum StorageProvider
{
    /// <summary>An embedded SQLite file, configured by <c>akka.write-behind.storage.sqlite</c>.</summary>
    Sqlite,

    /// <summary>A PostgreSQL server, configured by <c>akka.write-behind.storage.postgres</c>.</summary>
    Postgres,
}

/// <summary>
/// Reads <c>akka.write-behind.storage</c>, the section every feature's SQL stores share: which provider, and the PostgreSQL
/// connection string and pool size (the SQLite file is <see cref="SqliteStores.ConnectionStringFromConfig"/>).
/// </summary>
public static class SqlStorage
{
    /// <summary>Path of the storage section.</summary>
    public const string ConfigPath = "akka.write-behind.storage";

    /// <summary>Path of the PostgreSQL section.</summary>
    public const string PostgresConfigPath = ConfigPath + ".postgres";

    /// <summary>Key (under <see cref="PostgresConfigPath"/>) of the library stores' pool size.</summary>
    public const string MaxPoolSizeKey = "max-pool-size";

    /// <summary>Connections a PostgreSQL store opens at most when its connection string sets no <c>Maximum Pool Size</c>.</summary>
    public const int DefaultMaxPoolSize = 10;

    /// <summary>The provider that <c>akka.write-behind.storage.provider</c> names (<c>sqlite</c> or <c>postgres</c>).</summary>
    /// <param name="root">The actor system's whole configuration.</param>
    /// <exception cref="ConfigurationException">Another value.</exception>
    public static StorageProvider ProviderFromConfig(Config root)
    {
        var provider = WithDefaults(root).GetString(ConfigPath + ".provider", "sqlite");
        return provider.Trim().ToLowerInvariant() switch
        {
            "sqlite" => StorageProvider.Sqlite,
            "postgres" => StorageProvider.Postgres,
            _ => throw new ConfigurationException($"{ConfigPath}.provider = \"{provider}\" is not supported; use \"sqlite\" or \"postgres\"."),
        };
    }

    /// <summary>
    /// The PostgreSQL connection string and pool size of <c>akka.write-behind.storage.postgres</c>, checked: the connection
    /// string is set and parses, the pool size under <paramref name="maxPoolSizeKey"/> is positive.
    /// </summary>
    /// <param name="root">The actor system's whole configuration.</param>
    /// <param name="maxPoolSizeKey">The key of the pool size. <b>Default</b>: <see cref="MaxPoolSizeKey"/>.</param>
    /// <param name="defaultMaxPoolSize">The pool size when the key is absent. <b>Default</b>: <see cref="DefaultMaxPoolSize"/>.</param>
    /// <exception cref="ConfigurationException">The message names the key at fault.</exception>
    public static (string ConnectionString, int MaxPoolSize) PostgresFromConfig(Config root, string maxPoolSizeKey = MaxPoolSizeKey,
        int defaultMaxPoolSize = DefaultMaxPoolSize)
    {
        var section = WithDefaults(root).GetConfig(PostgresConfigPath);
        var connectionString = section?.GetString("connection-string", "") ?? "";
        if (string.IsNullOrWhiteSpace(connectionString))
            throw new ConfigurationException($"{PostgresConfigPath}.connection-string must be set when {ConfigPath}.provider = postgres.");
        var maxPoolSize = section!.GetInt(maxPoolSizeKey, defaultMaxPoolSize);
        if (maxPoolSize <= 0)
            throw new ConfigurationException($"{PostgresConfigPath}.{maxPoolSizeKey} must be > 0.");
        try
        {
            PostgresConnectionStrings.Describe(connectionString);
        }
        catch (ArgumentException e)
        {
            throw new ConfigurationException($"{PostgresConfigPath}.connection-string is not a valid Npgsql connection string: {e.Message}");
        }

        return (connectionString, maxPoolSize);
    }

    private static Config WithDefaults(Config root) => root.WithFallback(WriteBehindConfig.DefaultConfig());
}
