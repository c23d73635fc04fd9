using Akka.Configuration;
using Akka.WriteBehind.Batches;
using Akka.WriteBehind.Samples.Accounts;
using Akka.WriteBehind.Tests.Support;
using Npgsql;

namespace Akka.WriteBehind.Tests.Samples;

[Collection(PostgresFixture.Collection)]
public sealed class PostgresAccountStoreSpec(PostgresFixture postgres) : AccountStoreSpecBase
{
    private readonly PostgresDatabase _database = postgres.CreateDatabase();
    private PostgresAccountStore? _store;

    private protected override IBulkResourceStore<Account> Store => _store ??= new PostgresAccountStore(_database.ConnectionString);

    private protected override async Task<(long Balance, long Version)?> TryReadRowAsync(string key)
    {
        await using var connection = new NpgsqlConnection(_database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT balance, version FROM accounts WHERE key = $1", connection);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = key });
        await using var reader = await command.ExecuteReaderAsync();
        return await reader.ReadAsync() ? (reader.GetInt64(0), reader.GetInt64(1)) : null;
    }

    public override async Task DisposeAsync()
    {
        if (_store is not null)
            await _store.DisposeAsync();
        _database.Dispose();
    }

    [Fact]
    public async Task Should_create_the_table_once_when_many_nodes_start_at_the_same_time()
    {
        using var database = postgres.CreateDatabase();
        var stores = Enumerable.Range(0, 8).Select(_ => new PostgresAccountStore(database.ConnectionString)).ToArray();
        try
        {
            await Task.WhenAll(stores.Select(s => Task.Run(() => s.InitializeAsync())));

            Assert.Equal(new Account(7, 1), await stores[0].SaveAsync("created", new Account(7, 0), CancellationToken.None));
            Assert.Equal(new Account(7, 1), await stores[7].LoadAsync("created", CancellationToken.None));
        }
        finally
        {
            foreach (var store in stores)
                await store.DisposeAsync();
        }
    }

    [Fact]
    public async Task Should_refuse_a_negative_balance_in_the_table_itself()
    {
        await using var connection = new NpgsqlConnection(_database.ConnectionString);
        await connection.OpenAsync();
        await using var insert = new NpgsqlCommand("INSERT INTO accounts (key, balance, version) VALUES ('minus', -1, 1)", connection);

        var e = await Assert.ThrowsAsync<PostgresException>(() => insert.ExecuteNonQueryAsync());
        Assert.Equal(PostgresErrorCodes.CheckViolation, e.SqlState);
    }

    [Fact]
    public void Should_be_chosen_by_the_storage_provider_next_to_the_counters()
    {
        var postgresConfig = ConfigurationFactory.ParseString($"""
            akka.write-behind.storage.provider = postgres
            akka.write-behind.storage.postgres.connection-string = "{_database.ConnectionString}"
            """);
        using (var store = Assert.IsType<PostgresAccountStore>(AccountStores.FromConfig(postgresConfig)))
            Assert.Equal($"127.0.0.1:{postgres.Port}/{_database.Name}", store.Description);

        using var dir = new TempDirectory();
        Assert.IsType<SqliteAccountStore>(AccountStores.FromConfig(ConfigurationFactory.ParseString(
            $"akka.write-behind.storage.sqlite.data-dir = \"{dir.Path}\"")));
        Assert.Throws<ConfigurationException>(() => AccountStores.FromConfig(ConfigurationFactory.ParseString(
            "akka.write-behind.storage.provider = postgres")));
    }
}
