using Akka.WriteBehind.Tests.Support;

namespace Akka.WriteBehind.Tests.Counters;

public sealed class SqliteCounterStoreSpec() : CounterStoreSpecBase(new SqliteTestDatabase())
{
    [Fact]
    public async Task Should_create_the_schema_idempotently_in_wal_mode()
    {
        await Store.InitializeAsync();
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={((SqliteTestDatabase)Database).DatabaseFile}");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode";
        Assert.Equal("wal", (string?)await command.ExecuteScalarAsync());
        command.CommandText = "SELECT group_concat(name, ',') FROM pragma_table_info('counters')";
        Assert.Equal("key,value,applied_seq,updated_at", (string?)await command.ExecuteScalarAsync());
    }
}
