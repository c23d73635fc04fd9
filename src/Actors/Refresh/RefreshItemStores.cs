using Akka.Configuration;
using Akka.WriteBehind.Sql;

namespace Akka.WriteBehind.Refresh;

/// <summary>Builds the refresh cache's item store that <c>akka.write-behind.storage.provider</c> chooses.</summary>
public static class RefreshItemStores
{
    /// <summary>
    /// The store of the configuration <paramref name="root"/> (library defaults as fallback): <c>provider = sqlite</c> builds a
    /// <see cref="SqliteRefreshItemStore"/> on the file of <c>storage.sqlite</c> (the counters' file), <c>provider = postgres</c>
    /// a <see cref="PostgresRefreshItemStore"/> on <c>storage.postgres.connection-string</c> with a pool of <c>max-pool-size</c>.
    /// </summary>
    /// <param name="root">The actor system's whole configuration.</param>
    /// <param name="tableName">The table of the items (a cache other than the default has its own, see
    /// <see cref="RefreshTables.DerivedFrom"/>). <b>Default</b>: <c>refresh_items</c>.</param>
    /// <exception cref="ConfigurationException">An unknown provider, or the chosen provider's section is incomplete; the message names the key.</exception>
    public static IRefreshItemStore FromConfig(Config root, string tableName = RefreshTables.DefaultTableName)
    {
        if (SqlStorage.ProviderFromConfig(root) == StorageProvider.Sqlite)
            return new SqliteRefreshItemStore(SqliteStores.ConnectionStringFromConfig(root), tableName);

        var (connectionString, maxPoolSize) = SqlStorage.PostgresFromConfig(root);
        return new PostgresRefreshItemStore(connectionString, maxPoolSize, tableName);
    }
}
