using Akka.Configuration;
using Akka.WriteBehind.Sql;

namespace Akka.WriteBehind.Counters;

/// <summary>Builds the counter store that <c>akka.write-behind.storage</c> chooses.</summary>
public static class CounterStores
{
    /// <summary>
    /// The store of the configuration <paramref name="root"/> (library defaults as fallback): <c>provider = sqlite</c> builds a
    /// <see cref="SqliteCounterStore"/> (<see cref="SqliteCounterStoreFromConfig"/>), <c>provider = postgres</c> a
    /// <see cref="PostgresCounterStore"/> on <c>postgres.connection-string</c>.
    /// </summary>
    /// <param name="root">The actor system's whole configuration.</param>
    /// <exception cref="ConfigurationException">An unknown provider, or the chosen provider's section is incomplete; the message names the key.</exception>
    public static ICounterStore FromConfig(Config root) => SqlStorage.ProviderFromConfig(root) switch
    {
        StorageProvider.Postgres => PostgresCounterStoreFromConfig(root),
        _ => SqliteCounterStoreFromConfig(root),
    };

    /// <summary>
    /// The SQLite store of the configuration <paramref name="root"/> (library defaults as fallback): <c>connection-string</c>
    /// when set, else the file <c>file-name</c> in <c>data-dir</c>.
    /// </summary>
    /// <param name="root">The actor system's whole configuration.</param>
    /// <exception cref="ConfigurationException">The section is missing or names no file.</exception>
    public static SqliteCounterStore SqliteCounterStoreFromConfig(Config root) => new(SqliteStores.ConnectionStringFromConfig(root));

    /// <summary>The PostgreSQL store of <c>akka.write-behind.storage.postgres</c>.</summary>
    /// <param name="root">The actor system's whole configuration.</param>
    /// <exception cref="ConfigurationException"><c>connection-string</c> is empty or invalid, or <c>max-pool-size</c> is not positive.</exception>
    public static PostgresCounterStore PostgresCounterStoreFromConfig(Config root)
    {
        var (connectionString, maxPoolSize) = SqlStorage.PostgresFromConfig(root);
        return new PostgresCounterStore(connectionString, maxPoolSize);
    }

    /// <summary>
    /// Where the configured store writes, without credentials, as the Host prints it: <c>sqlite:/abs/path/writebehind.db</c>
    /// or <c>postgres:host:port/database</c>. Connects to nothing.
    /// </summary>
    /// <param name="root">The actor system's whole configuration.</param>
    /// <exception cref="ConfigurationException">As <see cref="FromConfig"/>.</exception>
    public static string Describe(Config root)
    {
        if (SqlStorage.ProviderFromConfig(root) == StorageProvider.Sqlite)
            return "sqlite:" + SqliteCounterStoreFromConfig(root).DataSource;

        return "postgres:" + PostgresConnectionStrings.Describe(SqlStorage.PostgresFromConfig(root).ConnectionString);
    }
}
