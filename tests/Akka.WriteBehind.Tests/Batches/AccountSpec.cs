using System.Collections.Concurrent;
using Akka.WriteBehind.Batches;
using Akka.WriteBehind.Samples.Accounts;
using Akka.WriteBehind.Tests.Support;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Batches;

/// <summary>The accounts sample on a real SQLite file.</summary>
public sealed class AccountSpec(ITestOutputHelper output) : AccountSpecBase(output)
{
    [Fact]
    public async Task Should_deposit_withdraw_and_read_the_balance()
    {
        Assert.Equal(new AccountBalance(100), await Processor.RunAsync("acc", new Deposit(100)).WaitAsync(AwaitTimeout));
        Assert.Equal(new AccountBalance(70), await Processor.RunAsync("acc", new Withdraw(30)).WaitAsync(AwaitTimeout));
        Assert.Equal(70, await BalanceAsync("acc"));
        Assert.Equal(0, await BalanceAsync("never-used"));

        // the caller is answered after the save: the row is there
        Assert.Equal((70, 2), await AccountsTable.ReadAsync(Dir.DatabaseFile, "acc"));
        Assert.Null(await AccountsTable.TryReadAsync(Dir.DatabaseFile, "never-used"));
    }

    [Fact]
    public async Task Should_reject_a_withdrawal_beyond_the_balance_and_leave_the_balance_unchanged()
    {
        await Processor.RunAsync("poor", new Deposit(10)).WaitAsync(AwaitTimeout);

        var failure = await FailureOf(Processor.RunAsync("poor", new Withdraw(11)));

        Assert.True(failure.IsRejection);
        Assert.Equal(ErrorCode.Rejected, failure.Code);
        Assert.Contains("insufficient funds", failure.Message);
        Assert.Equal(10, await BalanceAsync("poor"));
        Assert.Equal((10, 1), await AccountsTable.ReadAsync(Dir.DatabaseFile, "poor"));
    }

    [Fact]
    public async Task Should_refuse_non_positive_amounts_and_overflow()
    {
        Assert.Equal(ErrorCode.InvalidArgument, (await FailureOf(Processor.RunAsync("bad", new Deposit(0)))).Code);
        Assert.Equal(ErrorCode.InvalidArgument, (await FailureOf(Processor.RunAsync("bad", new Withdraw(-5)))).Code);
        await Processor.RunAsync("big", new Deposit(long.MaxValue)).WaitAsync(AwaitTimeout);

        var overflow = await FailureOf(Processor.RunAsync("big", new Deposit(1)));

        Assert.Equal(ErrorCode.Overflow, overflow.Code);
        Assert.True(overflow.IsRejection);
        Assert.Equal(long.MaxValue, await BalanceAsync("big"));
    }

    [Fact]
    public async Task Should_never_overdraw_under_1000_concurrent_withdrawals()
    {
        const long initial = 5_000;
        await Processor.RunAsync("hot", new Deposit(initial)).WaitAsync(AwaitTimeout);
        var random = new Random(4);
        var amounts = Enumerable.Range(0, 1_000).Select(_ => (long)random.Next(1, 11)).ToArray(); // sum ~5,500 > 5,000

        var outcomes = await Task.WhenAll(amounts.Select(async amount =>
        {
            try
            {
                var balance = await Processor.RunAsync("hot", new Withdraw(amount));
                return (amount, Accepted: true, Balance: balance.Balance);
            }
            catch (BatchOperationException e) when (e is { IsRejection: true, Code: ErrorCode.Rejected })
            {
                return (amount, Accepted: false, Balance: -1L);
            }
        })).WaitAsync(TimeSpan.FromSeconds(60));

        var accepted = outcomes.Where(o => o.Accepted).Sum(o => o.amount);
        Assert.Contains(outcomes, o => !o.Accepted); // the workload asks for more than there is
        Assert.True(accepted <= initial, $"withdrew {accepted} of {initial}");
        Assert.All(outcomes.Where(o => o.Accepted), o => Assert.InRange(o.Balance, 0, initial));
        Assert.Equal(initial - accepted, await BalanceAsync("hot"));
        var (stored, version) = await AccountsTable.ReadAsync(Dir.DatabaseFile, "hot");
        Assert.Equal(initial - accepted, stored);
        Output.WriteLine($"1000 withdrawals: {outcomes.Count(o => o.Accepted)} accepted ({accepted}), stored balance {stored}, {version} saves");
        Assert.True(version < 100, $"{version} saves for 1,001 operations: they were not batched");
    }
}

/// <summary>Many keys' saves go to the store in few SaveManyAsync calls (max-delay 500ms gathers every batch of the burst).</summary>
public sealed class AccountSaveManySpec : AccountSpecBase
{
    private readonly CountingAccountStore _counting;

    public AccountSaveManySpec(ITestOutputHelper output) : base(output, """
        akka.write-behind.batches.types.accounts {
          min-duration = 1s
          max-duration = 5s
          save-many.max-delay = 500ms
        }
        """)
    {
        _counting = new CountingAccountStore(Sqlite);
        Store = _counting;
    }

    [Fact]
    public async Task Should_save_the_batches_of_many_keys_in_few_round_trips()
    {
        var keys = Enumerable.Range(0, 50).Select(i => $"many-{i}").ToArray();

        var balances = await Task.WhenAll(keys.Select(key => Processor.RunAsync(key, new Deposit(7)))).WaitAsync(AwaitTimeout);

        Assert.All(balances, b => Assert.Equal(7, b.Balance));
        Assert.Equal(0, _counting.SingleSaves);
        Assert.Equal(50, _counting.KeysSaved);
        Assert.True(_counting.SaveManyCalls < 50 && _counting.LargestGroup > 1,
            $"{_counting.SaveManyCalls} SaveManyAsync calls, largest group {_counting.LargestGroup}");
        foreach (var key in keys)
            Assert.Equal((7, 1), await AccountsTable.ReadAsync(Dir.DatabaseFile, key));
    }

    private sealed class CountingAccountStore(SqliteAccountStore inner) : IBulkResourceStore<Account>
    {
        private int _saveManyCalls;
        private int _keysSaved;
        private int _singleSaves;
        private int _largestGroup;

        public int SaveManyCalls => Volatile.Read(ref _saveManyCalls);
        public int KeysSaved => Volatile.Read(ref _keysSaved);
        public int SingleSaves => Volatile.Read(ref _singleSaves);
        public int LargestGroup => Volatile.Read(ref _largestGroup);

        public Task InitializeAsync(CancellationToken cancellationToken = default) => inner.InitializeAsync(cancellationToken);

        public Task<Account> LoadAsync(string key, CancellationToken cancellationToken) => inner.LoadAsync(key, cancellationToken);

        public Task<Account> SaveAsync(string key, Account resource, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _singleSaves);
            return inner.SaveAsync(key, resource, cancellationToken);
        }

        public Task<IReadOnlyDictionary<string, Account>> SaveManyAsync(IReadOnlyDictionary<string, Account> resources, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _saveManyCalls);
            Interlocked.Add(ref _keysSaved, resources.Count);
            lock (this)
                _largestGroup = Math.Max(_largestGroup, resources.Count);
            return inner.SaveManyAsync(resources, cancellationToken);
        }
    }
}

/// <summary>Every message on the batch path goes through the serializer, as it would between nodes.</summary>
public sealed class BatchSerializationSpec(ITestOutputHelper output) : AccountSpecBase(output, """
    akka.actor.serialize-messages = on
    """)
{
    [Fact]
    public async Task Should_work_with_every_message_serialized()
    {
        Assert.Equal(new AccountBalance(5), await Processor.RunAsync("ser", new Deposit(5)).WaitAsync(AwaitTimeout));
        Assert.Equal(new AccountBalance(2), await Processor.RunAsync("ser", new Withdraw(3)).WaitAsync(AwaitTimeout));
        Assert.Equal(2, await BalanceAsync("ser"));
        var rejected = await FailureOf(Processor.RunAsync("ser", new Withdraw(3)));
        Assert.Equal(ErrorCode.Rejected, rejected.Code);
        Assert.True(rejected.IsRejection);

        // the protocol itself: a deadline already passed is answered Cancelled, with the id, through the serializer
        var probe = CreateTestProbe();
        var id = Guid.NewGuid();
        Processor.ShardRegion.Tell(new RunOperation("ser", id, new Deposit(1), DateTime.UtcNow.AddSeconds(-1)), probe);
        var cancelled = await probe.ExpectMsgAsync<OperationFailed>(AwaitTimeout);
        Assert.Equal(new OperationFailed("ser", id, ErrorCode.Cancelled, cancelled.Message), cancelled);
        Processor.ShardRegion.Tell(new CancelOperation("ser", Guid.NewGuid()), probe);
        Processor.ShardRegion.Tell(new RunOperation("ser", id, GetBalance.Instance, DateTime.UtcNow.AddMinutes(1)), probe);
        Assert.Equal(new OperationSucceeded("ser", id, new AccountBalance(2)), await probe.ExpectMsgAsync<OperationSucceeded>(AwaitTimeout));
        Assert.Equal(2, (await AccountsTable.ReadAsync(Dir.DatabaseFile, "ser")).Balance);
    }
}

/// <summary>Ask-free reads of the accounts table, as an operator would.</summary>
internal static class AccountsTable
{
    public static async Task<(long Balance, long Version)> ReadAsync(string databaseFile, string key) =>
        await TryReadAsync(databaseFile, key) ?? throw new Xunit.Sdk.XunitException($"no row for [{key}]");

    public static async Task<(long Balance, long Version)?> TryReadAsync(string databaseFile, string key)
    {
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={databaseFile};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT balance, version FROM accounts WHERE key = @k";
        command.Parameters.AddWithValue("@k", key);
        await using var reader = await command.ExecuteReaderAsync();
        return await reader.ReadAsync() ? (reader.GetInt64(0), reader.GetInt64(1)) : null;
    }
}
