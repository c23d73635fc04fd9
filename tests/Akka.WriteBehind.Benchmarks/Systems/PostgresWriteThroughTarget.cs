using Npgsql;

namespace Akka.WriteBehind.Benchmarks.Systems;

/// <summary>
/// Write-through on PostgreSQL: one autocommit <c>UPDATE counters SET value = value + @d WHERE key = @k</c> per increment
/// on one connection, like <see cref="WriteThroughTarget"/> on SQLite. Measured only when a server is given
/// (<c>--pg "&lt;connection string&gt;"</c> or the environment variable <see cref="EnvironmentVariable"/>); the
/// <c>counters</c> table (the library's schema) is created when missing and the round's <c>bench:</c> rows are deleted
/// first, so a shared database only loses earlier benchmark rows.
/// </summary>
internal sealed class PostgresWriteThroughTarget(string connectionString) : IBenchTarget, IOwnTotal
{
    public const string Name = "write-through-pg";

    public const string EnvironmentVariable = "WRITEBEHIND_BENCH_PG";

    public const string Description = "one autocommit UPDATE per increment, PostgreSQL (server given by --pg or WRITEBEHIND_BENCH_PG; skipped otherwise)";

    private NpgsqlConnection? _connection;
    private long _rows;

    /// <summary>The server's connection string, or <c>null</c> when none is given (the system is skipped).</summary>
    public static string? ConnectionString => Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } s ? s : null;

    public static IBenchTarget? TryCreate(string name) => name == Name
        ? new PostgresWriteThroughTarget(ConnectionString ?? throw new InvalidOperationException($"{Name} needs --pg or {EnvironmentVariable}"))
        : null;

    public long RowsWritten => Interlocked.Read(ref _rows);

    public async Task StartAsync(string dbFile, Scenario scenario, string[] keys)
    {
        // the library's schema; then the round's rows, each existing beforehand so every increment is exactly one UPDATE
        await new Akka.WriteBehind.Counters.PostgresCounterStore(connectionString).InitializeAsync();
        _connection = new NpgsqlConnection(connectionString);
        await _connection.OpenAsync();
        await using (var clear = new NpgsqlCommand("DELETE FROM counters WHERE key LIKE 'bench:%'", _connection))
            await clear.ExecuteNonQueryAsync();
        await using var import = await _connection.BeginBinaryImportAsync("COPY counters (key, value, applied_seq) FROM STDIN (FORMAT BINARY)");
        foreach (var name in keys)
        {
            await import.StartRowAsync();
            await import.WriteAsync(name, NpgsqlTypes.NpgsqlDbType.Text);
            await import.WriteAsync(0L, NpgsqlTypes.NpgsqlDbType.Bigint);
            await import.WriteAsync(0L, NpgsqlTypes.NpgsqlDbType.Bigint);
        }

        await import.CompleteAsync();
    }

    public async Task<SendResult> SendAsync(string[] keys, int[] sequence, Pacer pacer, TimeSpan cap)
    {
        await using var update = new NpgsqlCommand("UPDATE counters SET value = value + @d, updated_at = now() WHERE key = @k", _connection);
        var key = update.Parameters.Add("k", NpgsqlTypes.NpgsqlDbType.Text);
        var delta = update.Parameters.Add("d", NpgsqlTypes.NpgsqlDbType.Bigint);
        await update.PrepareAsync();
        long sent = 0;
        for (var i = 0; i < sequence.Length && pacer.Elapsed < cap; i++)
        {
            pacer.Wait(i);
            key.Value = keys[sequence[i]];
            delta.Value = 1L;
            if (await update.ExecuteNonQueryAsync() != 1)
                throw new InvalidOperationException($"UPDATE of {keys[sequence[i]]} changed no row");
            sent++;
            _rows++;
        }

        return new SendResult(sent, sent, 0);
    }

    public async Task<long> StoredTotalAsync()
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var sum = new NpgsqlCommand("SELECT COALESCE(SUM(value), 0)::bigint FROM counters WHERE key LIKE 'bench:%'", connection);
        return (long)(await sum.ExecuteScalarAsync())!;
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection is not null)
            await _connection.DisposeAsync();
    }
}
