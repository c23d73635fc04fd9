using Akka.WriteBehind.Counters;
using Akka.WriteBehind.Tests.Support;

namespace Akka.WriteBehind.Tests.Counters;

/// <summary>
/// The <see cref="ICounterStore"/> contract against a real database; run against SQLite (<see cref="SqliteCounterStoreSpec"/>)
/// and PostgreSQL (<see cref="PostgresCounterStoreSpec"/>).
/// </summary>
public abstract class CounterStoreSpecBase : IAsyncLifetime, IDisposable
{
    private protected CounterStoreSpecBase(TestDatabase database)
    {
        Database = database;
        Store = database.CreateStore();
    }

    private protected TestDatabase Database { get; }

    private protected ICounterStore Store { get; }

    public Task InitializeAsync() => Store.InitializeAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    public void Dispose() => Database.Dispose();

    [Fact]
    public async Task Should_keep_the_rows_of_two_tables_apart()
    {
        var other = ((ICounterTableStore)Store).WithTable("counters_other_set");
        await other.InitializeAsync();

        // the same key and write sequence number in both tables: each applies its own delta
        Assert.Equal(new StoredCounter(5, 1), (await Store.ApplyAsync([new CounterWrite("k", 5, 1)]))["k"]);
        Assert.Equal(new StoredCounter(7, 1), (await other.ApplyAsync([new CounterWrite("k", 7, 1)]))["k"]);

        Assert.Equal(new StoredCounter(5, 1), (await Store.ReadAsync(["k"]))["k"]);
        Assert.Equal(new StoredCounter(7, 1), (await other.ReadAsync(["k"]))["k"]);
        Assert.Equal(new Dictionary<string, long> { ["k"] = 5 }, await Database.ReadCountersAsync());
    }

    [Theory]
    [InlineData("Counters")]
    [InlineData("1counters")]
    [InlineData("counters; drop table x")]
    [InlineData("")]
    public void Should_refuse_a_table_name_that_is_not_an_identifier(string name) =>
        Assert.Throws<ArgumentException>(() => ((ICounterTableStore)Store).WithTable(name));

    [Fact]
    public async Task Should_insert_then_add_and_return_the_rows()
    {
        var first = await Store.ApplyAsync([new CounterWrite("a", 5, 1), new CounterWrite("b", -3, 1)]);
        Assert.Equal(new StoredCounter(5, 1), first["a"]);
        Assert.Equal(new StoredCounter(-3, 1), first["b"]);

        var second = await Store.ApplyAsync([new CounterWrite("a", 10, 2)]);
        Assert.Equal(new StoredCounter(15, 2), second["a"]);
        Assert.Equal(new Dictionary<string, long> { ["a"] = 15, ["b"] = -3 }, await Database.ReadCountersAsync());
    }

    [Fact]
    public async Task Should_skip_a_write_whose_sequence_number_is_already_applied()
    {
        await Store.ApplyAsync([new CounterWrite("k", 5, 1)]);
        await Store.ApplyAsync([new CounterWrite("k", 7, 2)]);

        var replayed = await Store.ApplyAsync([new CounterWrite("k", 7, 2), new CounterWrite("k", 5, 1)]);

        Assert.Equal(new StoredCounter(12, 2), replayed["k"]);
    }

    [Fact]
    public async Task Should_apply_a_write_and_its_retry_in_one_batch_once()
    {
        var result = await Store.ApplyAsync([new CounterWrite("dup", 4, 1), new CounterWrite("dup", 4, 1), new CounterWrite("other", 1, 1)]);
        Assert.Equal(new StoredCounter(4, 1), result["dup"]);
        Assert.Equal(new StoredCounter(1, 1), result["other"]);
    }

    [Fact]
    public async Task Should_apply_several_writes_of_one_key_in_one_batch_in_sequence_order()
    {
        await Store.ApplyAsync([new CounterWrite("many", 1, 1)]);

        // a retried write (seq 2) meets its successors in one batch, out of order, next to other keys and a stale copy
        var result = await Store.ApplyAsync(
        [
            new CounterWrite("many", 100, 3), new CounterWrite("other", 5, 1), new CounterWrite("many", 10, 2),
            new CounterWrite("many", 1, 1), new CounterWrite("many", 1000, 4), new CounterWrite("many", 10, 2),
        ]);

        Assert.Equal(new StoredCounter(1111, 4), result["many"]);
        Assert.Equal(new StoredCounter(5, 1), result["other"]);
        Assert.Equal(new Dictionary<string, long> { ["many"] = 1111, ["other"] = 5 }, await Database.ReadCountersAsync());
    }

    [Fact]
    public async Task Should_write_batches_larger_than_one_statement()
    {
        var writes = Enumerable.Range(0, 1234).Select(i => new CounterWrite($"key-{i}", i, 1)).ToArray();

        var result = await Store.ApplyAsync(writes);

        Assert.Equal(1234, result.Count);
        var (rows, sum) = await Database.CountAndSumAsync();
        Assert.Equal((1234L, writes.Sum(w => w.Delta)), (rows, sum));
        var read = await Store.ReadAsync(writes.Select(w => w.Key).ToArray());
        Assert.All(writes, w => Assert.Equal(new StoredCounter(w.Delta, 1), read[w.Key]));
    }

    [Fact]
    public async Task Should_read_missing_keys_as_empty()
    {
        var read = await Store.ReadAsync(["missing", "missing"]);
        Assert.Equal(StoredCounter.Empty, read["missing"]);
        Assert.Empty(await Store.ApplyAsync([]));
        Assert.Empty(await Store.ReadAsync([]));
    }

    [Fact]
    public async Task Should_keep_keys_exactly_as_given()
    {
        string[] keys = ["Key", "key", "ключ", "page 1/home", "emoji-\U0001F600", "quote'\"", new string('k', 256)];

        await Store.ApplyAsync(keys.Select((k, i) => new CounterWrite(k, i + 1, 1)).ToArray());

        var read = await Store.ReadAsync(keys);
        Assert.Equal(keys.Select((_, i) => (long)i + 1), keys.Select(k => read[k].Value));
        Assert.Equal(keys.Order(StringComparer.Ordinal), (await Database.ReadCountersAsync()).Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Should_refuse_a_value_outside_64_bits_and_roll_back_the_whole_batch()
    {
        await Store.ApplyAsync([new CounterWrite("max", long.MaxValue, 1), new CounterWrite("min", long.MinValue, 1)]);

        await Assert.ThrowsAnyAsync<Exception>(() => Store.ApplyAsync([new CounterWrite("fine", 1, 1), new CounterWrite("max", 1, 2)]));
        await Assert.ThrowsAnyAsync<Exception>(() => Store.ApplyAsync([new CounterWrite("min", -1, 2), new CounterWrite("fine", 1, 1)]));

        var read = await Store.ReadAsync(["max", "min", "fine"]);
        Assert.Equal(new StoredCounter(long.MaxValue, 1), read["max"]);
        Assert.Equal(new StoredCounter(long.MinValue, 1), read["min"]);
        Assert.Equal(StoredCounter.Empty, read["fine"]);
    }

    [Fact]
    public async Task Should_take_concurrent_batches_on_different_keys()
    {
        var batches = Enumerable.Range(0, 8)
            .Select(b => Enumerable.Range(0, 200).Select(i => new CounterWrite($"c-{b}-{i}", i, 1)).ToArray())
            .ToArray();

        await Task.WhenAll(batches.Select(b => Store.ApplyAsync(b)));

        var (rows, sum) = await Database.CountAndSumAsync();
        Assert.Equal((1600L, batches.Sum(b => b.Sum(w => w.Delta))), (rows, sum));
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
            Assert.Equal(await memory.ApplyAsync(batch), await Store.ApplyAsync(batch));
        Assert.Equal(memory.Snapshot(), await Database.ReadCountersAsync());
    }

    private static readonly DateTimeOffset Later = DateTimeOffset.UtcNow.AddMinutes(10);

    private static CounterWrite WithRequests(string key, long delta, long seq, params (string Id, long Delta)[] requests) =>
        new(key, delta, seq) { Requests = requests.Select(r => new CounterRequest(r.Id, r.Delta, Later)).ToArray() };

    [Fact]
    public async Task Should_apply_a_repeated_request_id_once()
    {
        // +5 with id r1 and +2 without: both counted
        Assert.Equal(new StoredCounter(7, 1), (await Store.ApplyAsync([WithRequests("k", 7, 1, ("r1", 5))]))["k"]);
        // a later write repeats r1 (+5) next to a new r2 (+3): only r2 is counted
        Assert.Equal(new StoredCounter(10, 2), (await Store.ApplyAsync([WithRequests("k", 8, 2, ("r1", 5), ("r2", 3))]))["k"]);
        // the same id on another key is another request
        Assert.Equal(new StoredCounter(5, 1), (await Store.ApplyAsync([WithRequests("other", 5, 1, ("r1", 5))]))["other"]);
        Assert.Equal(new Dictionary<string, long> { ["k"] = 10, ["other"] = 5 }, await Database.ReadCountersAsync());
    }

    [Fact]
    public async Task Should_count_an_id_repeated_within_one_write_once()
    {
        Assert.Equal(new StoredCounter(4, 1), (await Store.ApplyAsync([WithRequests("k", 8, 1, ("r1", 4), ("r1", 4))]))["k"]);
    }

    [Fact]
    public async Task Should_not_record_the_ids_of_a_write_whose_sequence_number_is_already_applied()
    {
        await Store.ApplyAsync([WithRequests("k", 5, 1, ("r1", 5))]);
        // a retry of write 1 (already applied) is skipped whole; write 2 carries r2 and is applied
        var rows = await Store.ApplyAsync([WithRequests("k", 5, 1, ("r1", 5)), WithRequests("k", 3, 2, ("r2", 3))]);
        Assert.Equal(new StoredCounter(8, 2), rows["k"]);
        // r2 is recorded now: its repeat in write 3 is left out
        Assert.Equal(new StoredCounter(8, 3), (await Store.ApplyAsync([WithRequests("k", 3, 3, ("r2", 3))]))["k"]);
    }

    [Fact]
    public async Task Should_count_an_expired_id_again_and_delete_expired_ids()
    {
        var expired = new CounterWrite("k", 5, 1) { Requests = [new CounterRequest("r1", 5, DateTimeOffset.UtcNow.AddMinutes(-1))] };
        await Store.ApplyAsync([expired]);
        // its window has passed: the repeat is a new increment
        Assert.Equal(new StoredCounter(10, 2), (await Store.ApplyAsync([WithRequests("k", 5, 2, ("r1", 5))]))["k"]);

        await Store.ApplyAsync([new CounterWrite("j", 1, 1) { Requests = [new CounterRequest("old", 1, DateTimeOffset.UtcNow.AddMinutes(-1))] }]);
        Assert.Equal(1, await Store.DeleteExpiredRequestsAsync(DateTimeOffset.UtcNow));
        // r1 was renewed by write 2 and is still remembered
        Assert.Equal(new StoredCounter(10, 3), (await Store.ApplyAsync([WithRequests("k", 5, 3, ("r1", 5))]))["k"]);
    }

    [Fact]
    public async Task Should_forget_the_ids_of_a_failed_write()
    {
        await Store.ApplyAsync([new CounterWrite("big", long.MaxValue, 1)]);
        // the batch fails (overflow): nothing of it is kept, r1 included
        await Assert.ThrowsAnyAsync<Exception>(() => Store.ApplyAsync([WithRequests("big", 1, 2, ("r1", 1)), WithRequests("k", 5, 1, ("r1", 5))]));
        Assert.Equal(new StoredCounter(5, 1), (await Store.ApplyAsync([WithRequests("k", 5, 1, ("r1", 5))]))["k"]);
    }

    [Fact]
    public async Task Should_count_request_ids_like_the_in_memory_store()
    {
        var memory = new InMemoryCounterStore();
        CounterWrite[][] batches =
        [
            [WithRequests("x", 1, 1, ("a", 1)), WithRequests("y", 2, 1, ("a", 2))],
            [WithRequests("x", 11, 2, ("a", 1), ("b", 10)), WithRequests("y", 20, 1, ("c", 20))],
            [WithRequests("x", 110, 3, ("b", 10), ("c", 100)), new CounterWrite("z", -5, 3)],
        ];
        foreach (var batch in batches)
            Assert.Equal(await memory.ApplyAsync(batch), await Store.ApplyAsync(batch));
        Assert.Equal(memory.Snapshot(), await Database.ReadCountersAsync());
        Assert.Equal(new Dictionary<string, long> { ["x"] = 111, ["y"] = 2, ["z"] = -5 }, memory.Snapshot());
    }
}
