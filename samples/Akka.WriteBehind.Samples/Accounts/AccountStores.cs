using Akka.Configuration;
using Akka.WriteBehind.Batches;
using Akka.WriteBehind.Sql;

namespace Akka.WriteBehind.Samples.Accounts;

/// <summary>
/// Builds the account store that <c>akka.write-behind.storage.provider</c> chooses, next to the counters: in the counters'
/// SQLite file (<see cref="SqliteAccountStore"/>) or in their PostgreSQL database (<see cref="PostgresAccountStore"/>).
/// </summary>
public static class AccountStores
{
    /// <summary>Key (under <c>akka.write-behind.storage.postgres</c>) of the account store's pool size.</summary>
    public const string AccountsMaxPoolSizeKey = "accounts-max-pool-size";

    /// <summary>
    /// The account store of the configuration <paramref name="root"/> (library defaults as fallback): <c>provider = sqlite</c>
    /// builds a <see cref="SqliteAccountStore"/> on the counters' file, <c>provider = postgres</c> a
    /// <see cref="PostgresAccountStore"/> on <c>postgres.connection-string</c>. A PostgreSQL store holds a connection pool:
    /// dispose it when the actor system terminates.
    /// </summary>
    /// <param name="root">The actor system's whole configuration.</param>
    /// <exception cref="ConfigurationException">An unknown provider, or the chosen provider's section is incomplete; the message names the key.</exception>
    public static IBulkResourceStore<Account> FromConfig(Config root) => SqlStorage.ProviderFromConfig(root) switch
    {
        StorageProvider.Postgres => PostgresAccountStoreFromConfig(root),
        _ => SqliteAccountStoreFromConfig(root),
    };

    /// <summary>The SQLite account store (<c>accounts</c> table) of the configuration <paramref name="root"/>, in the counters' file.</summary>
    /// <param name="root">The actor system's whole configuration.</param>
    /// <exception cref="ConfigurationException">The section is missing or names no file.</exception>
    public static SqliteAccountStore SqliteAccountStoreFromConfig(Config root) => new(SqliteStores.ConnectionStringFromConfig(root));

    /// <summary>The PostgreSQL account store of <c>akka.write-behind.storage.postgres</c> (<c>connection-string</c>, <c>accounts-max-pool-size</c>).</summary>
    /// <param name="root">The actor system's whole configuration.</param>
    /// <exception cref="ConfigurationException"><c>connection-string</c> is empty or invalid, or <c>accounts-max-pool-size</c> is not positive.</exception>
    public static PostgresAccountStore PostgresAccountStoreFromConfig(Config root)
    {
        var (connectionString, maxPoolSize) = SqlStorage.PostgresFromConfig(root, AccountsMaxPoolSizeKey, PostgresAccountStore.DefaultMaxPoolSize);
        return new PostgresAccountStore(connectionString, maxPoolSize);
    }
}
