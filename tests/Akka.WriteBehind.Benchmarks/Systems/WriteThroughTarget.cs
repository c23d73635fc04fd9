using Microsoft.Data.Sqlite;

namespace Akka.WriteBehind.Benchmarks.Systems;

/// <summary>
/// What users do without write-behind: one autocommit <c>UPDATE counters SET value = value + @d WHERE key = @k</c> per
/// increment on one connection (SQLite in WAL mode). The rows exist beforehand (inserted before the measurement), so every
/// increment is exactly one UPDATE.
/// </summary>
internal sealed class WriteThroughTarget(string synchronous) : IBenchTarget
{
    private SqliteConnection? _connection;
    private long _rows;

    public long RowsWritten => Interlocked.Read(ref _rows);

    public async Task StartAsync(string dbFile, Scenario scenario, string[] keys)
    {
        // the same schema as the library's store
        await new Akka.WriteBehind.Counters.SqliteCounterStore($"Data Source={dbFile}").InitializeAsync();
        _connection = new SqliteConnection($"Data Source={dbFile}");
        await _connection.OpenAsync();
        await using (var pragma = _connection.CreateCommand())
        {
            pragma.CommandText = $"PRAGMA journal_mode = WAL; PRAGMA synchronous = {synchronous};";
            await pragma.ExecuteNonQueryAsync();
        }

        await InsertRowsAsync(_connection, keys);
    }

    /// <summary>A row of value 0 per key, in one transaction: every increment is then exactly one UPDATE.</summary>
    internal static async Task InsertRowsAsync(SqliteConnection connection, string[] keys)
    {
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync();
        await using var insert = connection.CreateCommand();
        insert.Transaction = transaction;
        insert.CommandText = "INSERT INTO counters (key, value, applied_seq) VALUES (@k, 0, 0)";
        var key = insert.Parameters.Add("@k", SqliteType.Text);
        foreach (var name in keys)
        {
            key.Value = name;
            await insert.ExecuteNonQueryAsync();
        }

        await transaction.CommitAsync();
    }

    public Task<SendResult> SendAsync(string[] keys, int[] sequence, Pacer pacer, TimeSpan cap)
    {
        using var update = _connection!.CreateCommand();
        update.CommandText = "UPDATE counters SET value = value + @d, updated_at = CURRENT_TIMESTAMP WHERE key = @k";
        var key = update.Parameters.Add("@k", SqliteType.Text);
        var delta = update.Parameters.Add("@d", SqliteType.Integer);
        update.Prepare();
        long sent = 0;
        for (var i = 0; i < sequence.Length && pacer.Elapsed < cap; i++)
        {
            pacer.Wait(i);
            key.Value = keys[sequence[i]];
            delta.Value = 1L;
            if (update.ExecuteNonQuery() != 1)
                throw new InvalidOperationException($"UPDATE of {keys[sequence[i]]} changed no row");
            sent++;
            _rows++;
        }

        return Task.FromResult(new SendResult(sent, sent, 0));
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection is not null)
            await _connection.DisposeAsync();
    }
}
