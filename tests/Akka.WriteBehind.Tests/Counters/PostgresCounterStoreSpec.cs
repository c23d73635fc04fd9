using Akka.WriteBehind.Counters;
using Akka.WriteBehind.Tests.Support;
using Npgsql;

namespace Akka.WriteBehind.Tests.Counters;

[Collection(PostgresFixture.Collection)]
public sealed class PostgresCounterStoreSpec(PostgresFixture postgres) : CounterStoreSpecBase(new PostgresTestDatabase(postgres))
{
    private string ConnectionString => ((PostgresTestDatabase)Database).ConnectionString;

    [Fact]
    public async Task Should_create_the_schema_idempotently()
    {
        await Store.InitializeAsync();

        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            SELECT string_agg(column_name || ' ' || data_type || ' ' || is_nullable, ', ' ORDER BY ordinal_position)
            FROM information_schema.columns WHERE table_name = 'counters'
            """, connection);
        Assert.Equal("key text NO, value bigint NO, applied_seq bigint NO, updated_at timestamp without time zone YES",
            (string?)await command.ExecuteScalarAsync());
        command.CommandText = """
            SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
            WHERE i.indrelid = 'counters'::regclass AND i.indisprimary
            """;
        Assert.Equal("key", (string?)await command.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Should_create_the_table_once_when_many_nodes_start_at_the_same_time()
    {
        var database = new PostgresTestDatabase(postgres);
        try
        {
            var stores = Enumerable.Range(0, 8).Select(_ => database.CreateStore()).ToArray();

            await Task.WhenAll(stores.Select(s => Task.Run(() => s.InitializeAsync())));

            await stores[0].ApplyAsync([new CounterWrite("created", 1, 1)]);
            Assert.Equal(new Dictionary<string, long> { ["created"] = 1 }, await database.ReadCountersAsync());
        }
        finally
        {
            database.Dispose();
        }
    }

    [Fact]
    public async Task Should_stamp_updated_at_in_utc()
    {
        var before = DateTime.UtcNow.AddMinutes(-1);
        await Store.ApplyAsync([new CounterWrite("stamped", 1, 1)]);

        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT updated_at FROM counters WHERE key = 'stamped'", connection);
        var stamp = (DateTime)(await command.ExecuteScalarAsync())!;
        Assert.InRange(stamp, before, DateTime.UtcNow.AddMinutes(1));
    }

    [Fact]
    public void Should_describe_itself_without_credentials()
    {
        using var store = new PostgresCounterStore("Host=db.example;Port=6432;Database=wb;Username=app;Password=secret");

        Assert.Equal("db.example:6432/wb", store.Description);
    }

    [Fact]
    public void Should_split_writes_of_one_key_into_statements_in_sequence_order()
    {
        var rounds = PostgresCounterStore.Rounds(
        [
            new CounterWrite("b", 1, 2), new CounterWrite("a", 1, 1), new CounterWrite("b", 1, 1), new CounterWrite("b", 1, 2),
            new CounterWrite("b", 1, 3),
        ]);

        Assert.Equal(
            new[] { "a:1 b:1", "b:2", "b:3" },
            rounds.Select(r => string.Join(' ', r.Select(w => $"{w.Key}:{w.Seq}"))));
    }
}
