using Npgsql;

namespace Akka.WriteBehind.Sql;

/// <summary>
/// A lease on the one Npgsql connection pool this process keeps for a PostgreSQL database (one per connection string, after
/// the default pool size is applied): every store on that database shares it instead of opening a pool of its own. The
/// pool closes when the last lease is disposed.
/// </summary>
public sealed class PostgresDatabase : IDisposable, IAsyncDisposable
{
    // guarded by Gate: leases are taken and returned when stores are built and disposed, never on a write path
    private static readonly Dictionary<string, Pool> Pools = new(StringComparer.Ordinal);
    private static readonly object Gate = new();

    private readonly Pool _pool;
    private int _disposed;

    private PostgresDatabase(Pool pool, string description)
    {
        _pool = pool;
        Description = description;
    }

    /// <summary>Where the database is, without credentials: <c>host:port/database</c>.</summary>
    public string Description { get; }

    /// <summary>The shared pool. Valid until this lease is disposed.</summary>
    public NpgsqlDataSource DataSource => _pool.Source;

    /// <summary>A lease on the pool of <paramref name="connectionString"/>; nothing connects before the first call.</summary>
    /// <param name="connectionString">An Npgsql connection string.</param>
    /// <param name="defaultMaxPoolSize">Pool size when <paramref name="connectionString"/> sets none.</param>
    /// <exception cref="ArgumentException">Empty, or not an Npgsql connection string.</exception>
    public static PostgresDatabase Lease(string connectionString, int defaultMaxPoolSize = SqlStorage.DefaultMaxPoolSize)
    {
        if (string.IsNullOrWhiteSpace(connectionString))
            throw new ArgumentException("A PostgreSQL connection string is required.", nameof(connectionString));
        var description = PostgresConnectionStrings.Describe(connectionString);
        var key = PostgresConnectionStrings.WithDefaultMaxPoolSize(connectionString, defaultMaxPoolSize);
        lock (Gate)
        {
            if (!Pools.TryGetValue(key, out var pool))
                Pools[key] = pool = new Pool(key, NpgsqlDataSource.Create(key));
            pool.Leases++;
            return new PostgresDatabase(pool, description);
        }
    }

    /// <summary>Another lease on the same pool, for a store that shares this one's database.</summary>
    public PostgresDatabase Share()
    {
        lock (Gate)
        {
            ObjectDisposedException.ThrowIf(_pool.Leases == 0, this);
            _pool.Leases++;
            return new PostgresDatabase(_pool, Description);
        }
    }

    /// <summary>Opens a connection from the shared pool.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    public ValueTask<NpgsqlConnection> OpenAsync(CancellationToken cancellationToken) => _pool.Source.OpenConnectionAsync(cancellationToken);

    /// <summary>
    /// Runs <paramref name="ddl"/> in one transaction under the advisory lock <paramref name="lockName"/>: nodes that start
    /// together would otherwise race on <c>CREATE TABLE IF NOT EXISTS</c> and fail on the catalog's unique index.
    /// </summary>
    /// <param name="lockName">The lock's name, e.g. <c>akka.write-behind:counters</c>.</param>
    /// <param name="ddl">The statements that create the tables and indexes.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public async Task CreateTablesAsync(string lockName, string ddl, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (var lockCommand = new NpgsqlCommand("SELECT pg_advisory_xact_lock(hashtext($1))", connection, transaction))
        {
            lockCommand.Parameters.Add(new NpgsqlParameter { Value = lockName });
            await lockCommand.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await using var command = new NpgsqlCommand(ddl, connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Returns the lease; the last one closes the pool.</summary>
    public void Dispose()
    {
        if (Release() is { } source)
            source.Dispose();
    }

    /// <summary>Returns the lease; the last one closes the pool.</summary>
    public ValueTask DisposeAsync() => Release() is { } source ? source.DisposeAsync() : ValueTask.CompletedTask;

    private NpgsqlDataSource? Release()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
            return null;
        lock (Gate)
        {
            if (--_pool.Leases > 0)
                return null;
            Pools.Remove(_pool.Key);
            return _pool.Source;
        }
    }

    private sealed class Pool(string key, NpgsqlDataSource source)
    {
        public string Key { get; } = key;
        public NpgsqlDataSource Source { get; } = source;
        public int Leases { get; set; }
    }
}
