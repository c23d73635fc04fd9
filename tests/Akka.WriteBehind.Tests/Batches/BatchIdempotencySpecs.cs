using Akka.Actor;
using Akka.WriteBehind.Batches;
using Akka.WriteBehind.Samples.Accounts;
using Akka.WriteBehind.Tests.Support;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Batches;

/// <summary>
/// Request ids on the accounts over a real SQLite file: a repeat is applied once and answered with the first answer, within a
/// batch, across batches, and after the entity stopped and reloaded its requests from <c>accounts_requests</c>.
/// min-duration 1s keeps the operations of a spec that are sent together in one batch.
/// </summary>
public sealed class AccountIdempotencySpec(ITestOutputHelper output) : AccountSpecBase(output, """
    akka.write-behind.batches.types.accounts { min-duration = 1s, max-duration = 10s }
    """)
{
    private Task<AccountBalance> Run(string key, IBatchOperation<AccountBalance> operation, string? requestId) =>
        Processor.RunAsync(key, operation, requestId).WaitAsync(AwaitTimeout);

    [Fact]
    public async Task Should_apply_a_repeated_request_id_once_and_answer_it_with_the_first_answer_across_batches()
    {
        Assert.Equal(new AccountBalance(5), await Run("across", new Deposit(5), "req-1"));
        Assert.Equal(new AccountBalance(15), await Run("across", new Deposit(10), null));

        // the repeat comes in a later batch: not applied, the first answer (balance 5 then), the balance unchanged
        Assert.Equal(new AccountBalance(5), await Run("across", new Deposit(5), "req-1"));
        Assert.Equal(15, await BalanceAsync("across"));
        // the id belongs to its key: the same id on another key is another request
        Assert.Equal(new AccountBalance(5), await Run("across-other", new Deposit(5), "req-1"));
        Assert.Equal(["req-1"], await RequestRowsAsync("across"));
    }

    [Fact]
    public async Task Should_answer_repeats_within_one_batch_with_the_first_answer()
    {
        var runs = Enumerable.Range(0, 3).Select(_ => Processor.RunAsync("within", new Deposit(7), "same")).ToArray();

        foreach (var run in runs)
            Assert.Equal(new AccountBalance(7), await run.WaitAsync(AwaitTimeout));
        var metric = await NextMetricAsync("within");
        Assert.Equal(3, metric.OperationCount);
        Assert.Equal(7, await BalanceAsync("within"));
        Assert.Equal((7, 1), await AccountsTable.ReadAsync(Dir.DatabaseFile, "within"));
    }

    [Fact]
    public async Task Should_not_remember_a_rejected_first_attempt()
    {
        var first = Processor.RunAsync("rejected", new Withdraw(50), "w-1");
        var repeat = Processor.RunAsync("rejected", new Withdraw(50), "w-1");
        // the repeat shares its batch with the first: it gets the first's rejection
        Assert.True((await FailureOf(first)).IsRejection);
        Assert.True((await FailureOf(repeat)).IsRejection);

        await Run("rejected", new Deposit(80), null);
        // a retry after the rejection runs again
        Assert.Equal(new AccountBalance(30), await Run("rejected", new Withdraw(50), "w-1"));
        Assert.Equal(new AccountBalance(30), await Run("rejected", new Withdraw(50), "w-1"));
        Assert.Equal(30, await BalanceAsync("rejected"));
    }

    [Fact]
    public async Task Should_remember_request_ids_after_the_entity_stopped_and_reloaded_from_sqlite()
    {
        Assert.Equal(new AccountBalance(40), await Run("reloaded", new Deposit(40), "dep-40"));
        var entity = await Sys.ActorSelection($"/system/sharding/{TypeName}/*/reloaded").ResolveOne(AwaitTimeout);
        Watch(entity);
        entity.Tell(StopBatchEntity.Instance);
        await ExpectTerminatedAsync(entity, AwaitTimeout);
        Assert.Equal(0, Processor.Requests.Count); // nothing left in memory: the answer below comes from the database

        Assert.Equal(new AccountBalance(40), await Run("reloaded", new Deposit(40), "dep-40"));
        Assert.Equal(40, await BalanceAsync("reloaded"));
        Assert.Equal((40, 1), await AccountsTable.ReadAsync(Dir.DatabaseFile, "reloaded"));
    }

    [Fact]
    public async Task Should_refuse_an_invalid_request_id_without_running_anything()
    {
        foreach (var invalid in new[] { "", "has space", new string('x', RequestIds.MaxLength + 1), "tab\there" })
        {
            var failure = await FailureOf(Processor.RunAsync("invalid-id", new Deposit(1), invalid));
            Assert.Equal(ErrorCode.InvalidArgument, failure.Code);
        }

        Assert.Equal(0, await BalanceAsync("invalid-id"));
        Assert.Null(await AccountsTable.TryReadAsync(Dir.DatabaseFile, "invalid-id"));
    }

    [Fact]
    public void Should_keep_the_request_id_when_an_operation_crosses_nodes()
    {
        var run = new RunOperation("remote", Guid.NewGuid(), new Deposit(3), DateTime.UtcNow.AddMinutes(1), "order-17");
        var group = new RunOperations("remote", new[] { run }); // an array, as the grouping stage sends

        var roundTrip = (RunOperations)Sys.Serialization.Deserialize(Sys.Serialization.Serialize(group),
            Sys.Serialization.FindSerializerFor(group).Identifier, Akka.Serialization.Serialization.ManifestFor(
                Sys.Serialization.FindSerializerFor(group), group));

        var back = Assert.Single(roundTrip.Operations);
        Assert.Equal("order-17", back.RequestId);
        Assert.Equal(new Deposit(3), back.Operation);
    }

    private async Task<string[]> RequestRowsAsync(string key)
    {
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Dir.DatabaseFile};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT request_id FROM accounts_requests WHERE key = @k ORDER BY request_id";
        command.Parameters.AddWithValue("@k", key);
        await using var reader = await command.ExecuteReaderAsync();
        var ids = new List<string>();
        while (await reader.ReadAsync())
            ids.Add(reader.GetString(0));
        return ids.ToArray();
    }
}

/// <summary>
/// Request ids on a store that does not keep them (the in-memory tape store: the entity remembers them): a failed first
/// attempt is not remembered, the node's bound refuses new ids with Saturated, and ids are forgotten after the window.
/// </summary>
public sealed class TapeIdempotencySpec(ITestOutputHelper output) : TapeSpecBase(output, """
    akka.write-behind.batches.types.tapes {
      early-close = on
      idempotency { window = 2s, max-remembered = 3 }
    }
    """)
{
    [Fact]
    public async Task Should_run_a_retry_again_after_a_failed_first_attempt()
    {
        Store.FailNextSaves(1);
        Assert.Equal(ErrorCode.StoreFailure, (await FailureOf(Processor.RunAsync("failed-first", new Append("a"), "f-1"))).Code);

        Assert.Equal(new TapeLength(1), await Processor.RunAsync("failed-first", new Append("a"), "f-1").WaitAsync(AwaitTimeout));
        Assert.Equal(new TapeLength(1), await Processor.RunAsync("failed-first", new Append("a"), "f-1").WaitAsync(AwaitTimeout));
        Assert.Equal(["a"], Store.Entries("failed-first"));
    }

    [Fact]
    public async Task Should_refuse_new_ids_beyond_max_remembered_and_still_answer_known_ones()
    {
        for (var i = 0; i < 3; i++)
            await Processor.RunAsync("bounded", new Append($"e{i}"), $"id-{i}").WaitAsync(AwaitTimeout);

        var refused = await FailureOf(Processor.RunAsync("bounded", new Append("e3"), "id-3"));
        Assert.Equal(ErrorCode.Saturated, refused.Code);
        Assert.Contains("idempotency.max-remembered", refused.Message);
        Assert.Equal(new TapeLength(1), await Processor.RunAsync("bounded", new Append("e0"), "id-0").WaitAsync(AwaitTimeout));
        Assert.Equal(new TapeLength(4), await Processor.RunAsync("bounded", new Append("no-id"), null).WaitAsync(AwaitTimeout));
        Assert.Equal(["e0", "e1", "e2", "no-id"], Store.Entries("bounded"));
    }

    [Fact]
    public async Task Should_forget_a_request_id_once_its_window_passed()
    {
        Assert.Equal(new TapeLength(1), await Processor.RunAsync("window", new Append("once"), "w").WaitAsync(AwaitTimeout));

        // repeats are answered with the first answer until the 2s window has passed; then the id is new again
        await AwaitAssertAsync(async () =>
        {
            var length = await Processor.RunAsync("window", new Append("once"), "w").WaitAsync(AwaitTimeout);
            Assert.Equal(new TapeLength(2), length);
        }, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(200));
        Assert.Equal(["once", "once"], Store.Entries("window"));
    }
}

/// <summary>The entity's memory of request ids and the node's bound on it, without actors.</summary>
public sealed class RequestMemorySpec
{
    private static readonly DateTime T0 = new(2026, 12, 5, 12, 0, 0, DateTimeKind.Utc);

    [Fact]
    public void Should_recall_within_the_window_and_release_the_ledger_slot_on_expiry()
    {
        var ledger = new RequestLedger(10);
        var memory = new RequestMemory(ledger, TimeSpan.FromMinutes(10));
        Assert.True(ledger.TryReserve());
        memory.Remember(new RememberedRequest("a", 5L, T0));

        Assert.True(memory.TryRecall("a", T0.AddMinutes(9), out var recalled));
        Assert.Equal(5L, recalled.Result);
        Assert.False(memory.TryRecall("a", T0.AddMinutes(11), out _));
        Assert.False(memory.TryRecall("b", T0, out _));

        memory.Expire(T0.AddMinutes(1));
        Assert.Equal(0, memory.Count);
        Assert.Equal(0, ledger.Count);
    }

    [Fact]
    public void Should_count_stored_requests_without_refusing_them_and_refuse_new_ids_beyond_the_bound()
    {
        var ledger = new RequestLedger(2);
        var memory = new RequestMemory(ledger, TimeSpan.FromMinutes(10));
        memory.Replace([new("x", null, T0), new("y", null, T0.AddSeconds(1)), new("z", null, T0.AddSeconds(2))]);

        Assert.Equal(3, ledger.Count);
        Assert.False(ledger.TryReserve());
        memory.Clear();
        Assert.Equal(0, ledger.Count);
        Assert.True(ledger.TryReserve());
    }
}
