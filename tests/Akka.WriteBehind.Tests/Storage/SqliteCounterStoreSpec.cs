using Akka.WriteBehind.Storage;
using Akka.WriteBehind.Tests.Support;

namespace Akka.WriteBehind.Tests.Storage;

public sealed class SqliteCounterStoreSpec : IAsyncLifetime, IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly SqliteCounterStore _store;

    public SqliteCounterStoreSpec() => _store = SqliteCounterStore.ForDirectory(_dir.Path);

    public Task InitializeAsync() => _store.InitializeAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Should_create_the_schema_idempotently_in_wal_mode()
    {
        await _store.InitializeAsync();
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={_dir.DatabaseFile}");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode";
        Assert.Equal("wal", (string?)await command.ExecuteScalarAsync());
        command.CommandText = "SELECT group_concat(name, ',') FROM pragma_table_info('counters')";
        Assert.Equal("key,value,applied_seq,updated_at", (string?)await command.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Should_insert_then_add_and_return_the_rows()
    {
        var first = await _store.ApplyAsync([new CounterWrite("a", 5, 1), new CounterWrite("b", -3, 1)]);
        Assert.Equal(new StoredCounter(5, 1), first["a"]);
        Assert.Equal(new StoredCounter(-3, 1), first["b"]);

        var second = await _store.ApplyAsync([new CounterWrite("a", 10, 2)]);
        Assert.Equal(new StoredCounter(15, 2), second["a"]);
        Assert.Equal(new Dictionary<string, long> { ["a"] = 15, ["b"] = -3 }, await SqliteTable.ReadAllAsync(_dir.DatabaseFile));
    }

    [Fact]
    public async Task Should_skip_a_write_whose_sequence_number_is_already_applied()
    {
        await _store.ApplyAsync([new CounterWrite("k", 5, 1)]);
        await _store.ApplyAsync([new CounterWrite("k", 7, 2)]);

        var replayed = await _store.ApplyAsync([new CounterWrite("k", 7, 2), new CounterWrite("k", 5, 1)]);

        Assert.Equal(new StoredCounter(12, 2), replayed["k"]);
    }

    [Fact]
    public async Task Should_apply_a_write_and_its_retry_in_one_batch_once()
    {
        var result = await _store.ApplyAsync([new CounterWrite("dup", 4, 1), new CounterWrite("dup", 4, 1), new CounterWrite("other", 1, 1)]);
        Assert.Equal(new StoredCounter(4, 1), result["dup"]);
    }

    [Fact]
    public async Task Should_write_batches_larger_than_one_statement()
    {
        var writes = Enumerable.Range(0, 1234).Select(i => new CounterWrite($"key-{i}", i, 1)).ToArray();

        var result = await _store.ApplyAsync(writes);

        Assert.Equal(1234, result.Count);
        var (rows, sum) = await SqliteTable.CountAndSumAsync(_dir.DatabaseFile);
        Assert.Equal((1234L, writes.Sum(w => w.Delta)), (rows, sum));
        var read = await _store.ReadAsync(writes.Select(w => w.Key).ToArray());
        Assert.All(writes, w => Assert.Equal(new StoredCounter(w.Delta, 1), read[w.Key]));
    }

    [Fact]
    public async Task Should_read_missing_keys_as_empty()
    {
        var read = await _store.ReadAsync(["missing"]);
        Assert.Equal(StoredCounter.Empty, read["missing"]);
    }

    [Fact]
    public async Task Should_refuse_a_value_outside_64_bits_and_roll_back_the_whole_batch()
    {
        await _store.ApplyAsync([new CounterWrite("max", long.MaxValue, 1)]);

        await Assert.ThrowsAnyAsync<Exception>(() => _store.ApplyAsync([new CounterWrite("fine", 1, 1), new CounterWrite("max", 1, 2)]));

        var read = await _store.ReadAsync(["max", "fine"]);
        Assert.Equal(new StoredCounter(long.MaxValue, 1), read["max"]);
        Assert.Equal(StoredCounter.Empty, read["fine"]);
    }

    [Fact]
    public async Task Should_behave_like_the_in_memory_store()
    {
        var memory = new InMemoryCounterStore();
        CounterWrite[][] batches =
        [
            [new("x", 1, 1), new("y", 2, 1)],
            [new("x", 10, 2), new("y", 20, 1)],
            [new("x", 100, 2), new("z", -5, 3)],
        ];
        foreach (var batch in batches)
            Assert.Equal(await memory.ApplyAsync(batch), await _store.ApplyAsync(batch));
        Assert.Equal(memory.Snapshot(), await SqliteTable.ReadAllAsync(_dir.DatabaseFile));
    }
}
