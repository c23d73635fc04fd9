using Akka.WriteBehind.Batches;
using Akka.WriteBehind.Samples.Accounts;
using Microsoft.Data.Sqlite;

namespace Akka.WriteBehind.Benchmarks.Systems;

/// <summary>
/// The batches scenario's baseline, what users do without batching: each operation is its own SQLite transaction with
/// <c>synchronous=FULL</c> on one connection: read the account, apply the operation with the same handler
/// (<see cref="AccountOperations"/>), write it back, commit; the caller is answered after the commit. Same table as
/// <see cref="SqliteAccountStore"/>. One transaction per operation, so its batches are its operations.
/// </summary>
internal sealed class WriteThroughOpsTarget : IBenchTarget, IOwnTotal, IBatchCounts
{
    public const string Name = "write-through-ops";

    public const string Description =
        "each operation its own SQLite transaction (synchronous=FULL, WAL): read the account, apply Deposit(1) with the same handler, write it, commit";

    private SqliteConnection? _connection;
    private long _operations;

    public static IBenchTarget? TryCreate(string name) => name == Name ? new WriteThroughOpsTarget() : null;

    public long RowsWritten => Interlocked.Read(ref _operations);

    public long Batches => Interlocked.Read(ref _operations);

    public string FailureSummary => "";

    public LatencyLog? Latencies { get; private set; }

    /// <summary>No batches: each operation is its own transaction, its latency the save.</summary>
    public double? SaveP99Ms => null;

    public void ResetCounts() => Interlocked.Exchange(ref _operations, 0);

    public async Task StartAsync(string dbFile, Scenario scenario, string[] keys)
    {
        await new SqliteAccountStore($"Data Source={dbFile}").InitializeAsync();
        _connection = new SqliteConnection($"Data Source={dbFile}");
        await _connection.OpenAsync();
        await using var pragma = _connection.CreateCommand();
        pragma.CommandText = "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;";
        await pragma.ExecuteNonQueryAsync();
    }

    public Task<SendResult> SendAsync(string[] keys, int[] sequence, Pacer pacer, TimeSpan cap)
    {
        Latencies = new LatencyLog(sequence.Length);
        using var select = _connection!.CreateCommand();
        select.CommandText = "SELECT balance, version FROM accounts WHERE key = @k";
        var selectKey = select.Parameters.Add("@k", SqliteType.Text);
        using var upsert = _connection.CreateCommand();
        upsert.CommandText = """
            INSERT INTO accounts (key, balance, version) VALUES (@k, @b, @v)
            ON CONFLICT (key) DO UPDATE SET balance = excluded.balance, version = excluded.version
            """;
        var key = upsert.Parameters.Add("@k", SqliteType.Text);
        var balance = upsert.Parameters.Add("@b", SqliteType.Integer);
        var version = upsert.Parameters.Add("@v", SqliteType.Integer);
        var deposit = new Deposit(1);
        long sent = 0, accepted = 0, rejected = 0;
        for (var i = 0; i < sequence.Length && pacer.Elapsed < cap; i++)
        {
            pacer.Wait(i);
            var intended = pacer.Intended(i);
            var name = keys[sequence[i]];
            using (var transaction = _connection.BeginTransaction())
            {
                select.Transaction = transaction;
                upsert.Transaction = transaction;
                selectKey.Value = name;
                Account account;
                using (var reader = select.ExecuteReader())
                    account = reader.Read() ? new Account(reader.GetInt64(0), reader.GetInt64(1)) : Account.Empty;
                var outcome = AccountOperations.Instance.Apply(name, account, deposit);
                if (outcome.IsChanged)
                {
                    key.Value = name;
                    balance.Value = outcome.Resource!.Balance;
                    version.Value = account.Version + 1;
                    upsert.ExecuteNonQuery();
                    transaction.Commit();
                    accepted++;
                }
                else
                    rejected++;
            }

            sent++;
            Interlocked.Increment(ref _operations);
            Latencies.Record(i, pacer.Elapsed - intended);
        }

        return Task.FromResult(new SendResult(sent, accepted, rejected));
    }

    public async Task<long> StoredTotalAsync()
    {
        await using var sum = _connection!.CreateCommand();
        sum.CommandText = "SELECT COALESCE(SUM(balance), 0) FROM accounts WHERE key LIKE 'bench:%'";
        return (long)(await sum.ExecuteScalarAsync())!;
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection is not null)
            await _connection.DisposeAsync();
    }
}
