using Akka.WriteBehind.Batches;
using Akka.WriteBehind.Samples.Accounts;
using Akka.WriteBehind.Tests.Support;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Batches;

/// <summary>An entity takes a <see cref="RunOperations"/> group as its operations one after the other, in one batch.</summary>
public sealed class BatchGroupSpec(ITestOutputHelper output) : TapeSpecBase(output)
{
    private static RunOperation Run(string key, string entry) => new(key, Guid.NewGuid(), new Append(entry), DateTime.UtcNow.AddMinutes(1));

    [Fact]
    public async Task Should_run_a_group_in_order_in_one_batch_and_answer_each_operation()
    {
        var probe = CreateTestProbe();
        var runs = new[] { Run("group", "a"), Run("group", "b"), Run("group", "c") };

        Processor.ShardRegion.Tell(new RunOperations("group", runs), probe);

        foreach (var (run, length) in runs.Zip([1, 2, 3]))
            Assert.Equal(new OperationSucceeded("group", run.OperationId, new TapeLength(length)), await probe.ExpectMsgAsync<OperationSucceeded>(AwaitTimeout));
        Assert.Equal(3, (await NextMetricAsync("group")).OperationCount);
        Assert.Equal(["a", "b", "c"], Store.Entries("group"));
        Assert.Equal(1, Store.Loads("group"));
        Assert.Equal(1, Store.Saves("group"));
    }

    [Fact]
    public async Task Should_answer_a_group_that_asks_for_it_in_one_message_per_batch_in_run_order()
    {
        var probe = CreateTestProbe();
        var runs = new[] { Run("grouped", "a"), Run("grouped", "b"), Run("grouped", "c") };

        Processor.ShardRegion.Tell(new RunOperations("grouped", runs) { GroupReplies = true }, probe);

        var answers = await probe.ExpectMsgAsync<OperationReplies>(AwaitTimeout);
        Assert.Equal("grouped", answers.Key);
        Assert.Equal(runs.Zip([1, 2, 3]).Select(r => (IOperationReply)new OperationSucceeded("grouped", r.Item1.OperationId, new TapeLength(r.Item2))),
            answers.Replies);
        await probe.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(300)); // not also one reply per operation
        Assert.Equal(["a", "b", "c"], Store.Entries("grouped"));
    }

    [Fact]
    public async Task Should_refuse_through_the_returned_task_not_by_throwing_from_RunAsync()
    {
        var refused = Processor.RunAsync("", new Append("x")); // an invalid key: RunAsync itself must not throw

        var error = await Assert.ThrowsAsync<BatchOperationException>(() => refused);
        Assert.Equal(ErrorCode.InvalidKey, error.Code);
    }

    [Fact]
    public async Task Should_refuse_an_operation_of_a_group_whose_key_is_not_the_groups()
    {
        var probe = CreateTestProbe();
        var stray = Run("elsewhere", "x");

        Processor.ShardRegion.Tell(new RunOperations("owner", [stray, Run("owner", "ok")]), probe);

        var refused = await probe.ExpectMsgAsync<OperationFailed>(AwaitTimeout);
        Assert.Equal((stray.OperationId, ErrorCode.InvalidArgument), (refused.OperationId, refused.Code));
        Assert.Equal(new TapeLength(1), (await probe.ExpectMsgAsync<OperationSucceeded>(AwaitTimeout)).Result);
        Assert.Equal(["ok"], Store.Entries("owner"));
        Assert.Empty(Store.Entries("elsewhere"));
    }

    [Fact]
    public async Task Should_answer_many_concurrent_calls_through_the_grouping_stage_in_arrival_order()
    {
        var calls = Enumerable.Range(0, 200).Select(i => RunAsync("many", new Append($"e{i}"))).ToArray();

        var lengths = (await Task.WhenAll(calls).WaitAsync(AwaitTimeout)).Select(l => l.Length).ToArray();

        // arrival order per key: the i-th call saw i earlier entries, and the tape holds them in call order
        Assert.Equal(Enumerable.Range(1, 200), lengths);
        Assert.Equal(Enumerable.Range(0, 200).Select(i => $"e{i}"), Store.Entries("many"));
    }
}

/// <summary>early-close: with min-duration 60s, only early-close can answer these calls within the await timeout (30s).</summary>
public sealed class BatchEarlyCloseSpec(ITestOutputHelper output) : TapeSpecBase(output, """
    akka.write-behind.batches.types.tapes {
      min-duration = 60s
      max-duration = 120s
      early-close = on
    }
    """)
{
    [Fact]
    public void Should_read_early_close_from_the_types_section_and_default_it_to_off()
    {
        Assert.True(Processor.Settings.EarlyClose);
        Assert.False(BatchSettings.Create(Sys, "other-type").EarlyClose);
    }

    [Fact]
    public async Task Should_close_a_batch_once_nothing_else_is_queued_for_its_key_without_waiting_for_min_duration()
    {
        Assert.Equal(new TapeLength(1), await RunAsync("early", new Append("a")).WaitAsync(AwaitTimeout));

        var metric = await NextMetricAsync("early");
        Assert.Equal(1, metric.OperationCount);
        Assert.True(metric.TotalDuration < TimeSpan.FromSeconds(30), $"batch closed after {metric.TotalDuration}");
    }

    [Fact]
    public async Task Should_put_every_operation_arriving_during_a_save_into_one_next_batch()
    {
        var first = await RunHeldAsync("grow", new Append("a"), holdSave: true);
        var next = new[] { "b", "c", "d" }.Select(e => RunAsync("grow", new Append(e))).ToArray();
        await Eventually.TrueAsync(() => Processor.Queues.Queued == 3, AwaitTimeout, "three operations queued behind the save");

        Store.OpenGates();

        Assert.Equal(new TapeLength(1), await first.WaitAsync(AwaitTimeout));
        Assert.Equal([2, 3, 4], (await Task.WhenAll(next).WaitAsync(AwaitTimeout)).Select(l => l.Length));
        Assert.Equal(1, (await NextMetricAsync("grow")).OperationCount);
        Assert.Equal(3, (await NextMetricAsync("grow")).OperationCount);
        Assert.Equal(2, Store.Saves("grow"));
    }
}

/// <summary>
/// A bulk store's loads are grouped across keys into LoadManyAsync calls, as its saves are into SaveManyAsync; its failing
/// calls are logged once, not once each.
/// </summary>
public sealed class BatchBulkLoadSpec : AccountSpecBase
{
    private readonly CountingLoads _counting;

    public BatchBulkLoadSpec(ITestOutputHelper output) : base(output)
    {
        _counting = new CountingLoads(Sqlite);
        Store = _counting;
    }

    [Fact]
    public async Task Should_load_the_batches_of_many_keys_in_few_round_trips()
    {
        await Sqlite.SaveManyAsync(new Dictionary<string, Account> { ["load-0"] = new(10, 0) }, CancellationToken.None);
        var keys = Enumerable.Range(0, 50).Select(i => $"load-{i}").ToArray();

        var balances = await Task.WhenAll(keys.Select(key => Processor.RunAsync(key, new Deposit(1)))).WaitAsync(AwaitTimeout);

        Assert.Equal([11, .. Enumerable.Repeat(1L, 49)], balances.Select(b => b.Balance));
        Assert.Equal(0, _counting.SingleLoads);
        Assert.Equal(50, _counting.KeysLoaded);
        Assert.True(_counting.LoadManyCalls < 50, $"{_counting.LoadManyCalls} LoadManyAsync calls for 50 keys");
    }

    [Fact]
    public async Task Should_log_failing_store_calls_once_with_their_cause_and_once_when_the_store_answers_again()
    {
        _counting.FailNextLoads(3);

        await EventFilter.Info(contains: "answers again after 3 failed calls").ExpectAsync(1, async () =>
            await EventFilter.Warning(contains: "in one call failed").ExpectAsync(1, async () =>
            {
                for (var i = 0; i < 3; i++)
                    Assert.Equal(ErrorCode.StoreFailure, (await FailureOf(Processor.RunAsync($"outage-{i}", new Deposit(1)))).Code);
                Assert.Equal(1, (await Processor.RunAsync("outage-over", new Deposit(1)).WaitAsync(AwaitTimeout)).Balance);
            }, AwaitTimeout), AwaitTimeout);
    }

    private sealed class CountingLoads(SqliteAccountStore inner) : IBulkResourceStore<Account>
    {
        private int _singleLoads;
        private int _loadManyCalls;
        private int _keysLoaded;

        public int SingleLoads => Volatile.Read(ref _singleLoads);
        public int LoadManyCalls => Volatile.Read(ref _loadManyCalls);
        public int KeysLoaded => Volatile.Read(ref _keysLoaded);

        private int _failLoads;

        /// <summary>The next <paramref name="n"/> LoadManyAsync calls throw.</summary>
        public void FailNextLoads(int n) => Volatile.Write(ref _failLoads, n);

        public Task InitializeAsync(CancellationToken cancellationToken = default) => inner.InitializeAsync(cancellationToken);

        public Task<Account> LoadAsync(string key, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _singleLoads);
            return inner.LoadAsync(key, cancellationToken);
        }

        public Task<IReadOnlyDictionary<string, Account>> LoadManyAsync(IReadOnlyCollection<string> keys, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _loadManyCalls);
            Interlocked.Add(ref _keysLoaded, keys.Count);
            if (Interlocked.Decrement(ref _failLoads) >= 0)
                throw new InvalidOperationException("injected load failure");
            return inner.LoadManyAsync(keys, cancellationToken);
        }

        public Task<Account> SaveAsync(string key, Account resource, CancellationToken cancellationToken) => inner.SaveAsync(key, resource, cancellationToken);

        public Task<IReadOnlyDictionary<string, Account>> SaveManyAsync(IReadOnlyDictionary<string, Account> resources, CancellationToken cancellationToken) =>
            inner.SaveManyAsync(resources, cancellationToken);
    }
}

/// <summary>
/// A call group's batch operations ride the grouping stage too: with the resource held and early-close on, operations sent
/// one message each would make a batch of the first alone; grouped, the key's operations reach the entity together.
/// </summary>
public sealed class BatchCallGroupFastPathSpec(ITestOutputHelper output) : TapeSpecBase(output, """
    akka.write-behind.batches.types.tapes {
      min-duration = 60s
      max-duration = 120s
      early-close = on
      keep-loaded = on
    }
    """)
{
    [Fact]
    public async Task Should_send_a_groups_operations_on_one_key_to_its_entity_as_one_message()
    {
        await RunAsync("fan", new Append("warm")).WaitAsync(AwaitTimeout); // loaded and held from now on
        Assert.Equal(1, (await NextMetricAsync("fan")).OperationCount);
        var group = Akka.WriteBehind.CallGroups.CallGroup<int>.Create();
        for (var i = 0; i < 5; i++)
            group = group.AddBatch(i, Processor, "fan", new Append($"e{i}"));

        var outcomes = await group.RunAsync(Sys, TimeSpan.FromSeconds(30)).WaitAsync(AwaitTimeout);

        Assert.Equal(5, outcomes.Count);
        Assert.All(outcomes.Values, o => Assert.True(o.IsSuccess, o.ToString()));
        Assert.Equal(5, (await NextMetricAsync("fan")).OperationCount);
        Assert.Equal(["warm", "e0", "e1", "e2", "e3", "e4"], Store.Entries("fan"));
    }
}

/// <summary>With <c>save-many.max-delay = 0s</c> the store writer waits for no window and still gathers what arrives while it is busy.</summary>
public sealed class BatchSaveManyWithoutDelaySpec(ITestOutputHelper output) : AccountSpecBase(output, """
    akka.write-behind.batches.types.accounts.save-many { max-delay = 0s, parallelism = 1 }
    """)
{
    [Fact]
    public async Task Should_save_the_batches_of_many_keys_and_answer_every_caller()
    {
        var keys = Enumerable.Range(0, 200).Select(i => $"nodelay-{i}").ToArray();

        var balances = await Task.WhenAll(keys.Select(key => Processor.RunAsync(key, new Deposit(3)))).WaitAsync(AwaitTimeout);

        Assert.All(balances, b => Assert.Equal(3, b.Balance));
        var stored = await Sqlite.LoadManyAsync(keys, CancellationToken.None);
        Assert.All(keys, key => Assert.Equal(3, stored[key].Balance));
    }
}
