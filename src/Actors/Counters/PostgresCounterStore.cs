using Akka.WriteBehind.Sql;
using Npgsql;

namespace Akka.WriteBehind.Counters;

/// <summary>
/// An <see cref="ICounterStore"/> on PostgreSQL (Npgsql) with the table
/// <c>counters(key text primary key, value bigint not null, applied_seq bigint not null, updated_at timestamp)</c>, in the
/// connection's default schema (another counter set gets its own table of that shape: <see cref="WithTable"/>). Each batch is one transaction: one multi-row upsert from arrays
/// (<c>INSERT … SELECT … FROM unnest(@keys, @deltas, @seqs) ON CONFLICT (key) DO UPDATE … WHERE applied_seq &lt; excluded.applied_seq</c>),
/// then a read of the rows, sent to the server in one round trip. A sum that leaves the 64-bit range fails the statement
/// (<c>bigint out of range</c>) and rolls back the whole batch.
/// </summary>
public sealed class PostgresCounterStore : ICounterTableStore, IAsyncDisposable, IDisposable
{
    /// <summary>Connections the store opens at most when the connection string sets no <c>Maximum Pool Size</c>.</summary>
    public const int DefaultMaxPoolSize = SqlStorage.DefaultMaxPoolSize;

    // created under the advisory lock of PostgresDatabase.CreateTablesAsync (nodes that start together do not race)
    private const string InitializeSql = """
        CREATE TABLE IF NOT EXISTS {0} (
            key TEXT NOT NULL PRIMARY KEY,
            value BIGINT NOT NULL,
            applied_seq BIGINT NOT NULL,
            updated_at TIMESTAMP
        );
        CREATE TABLE IF NOT EXISTS {0}_requests (
            key TEXT NOT NULL,
            request_id TEXT NOT NULL,
            expires_at BIGINT NOT NULL,
            PRIMARY KEY (key, request_id)
        );
        CREATE INDEX IF NOT EXISTS {0}_requests_expires_at ON {0}_requests (expires_at);
        """;

    // an expired id counts as new again; RETURNING lists the rows inserted or renewed, not the repeats
    private const string RecordRequestsSql = """
        INSERT INTO {0}_requests (key, request_id, expires_at)
        SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[])
        ON CONFLICT (key, request_id) DO UPDATE SET expires_at = excluded.expires_at
        WHERE {0}_requests.expires_at < $4
        RETURNING key, request_id
        """;

    private const string UpsertSql = """
        INSERT INTO {0} (key, value, applied_seq, updated_at)
        SELECT w.key, w.delta, w.seq, timezone('utc', now())
        FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS w(key, delta, seq)
        ON CONFLICT (key) DO UPDATE SET
            value = {0}.value + excluded.value,
            applied_seq = excluded.applied_seq,
            updated_at = excluded.updated_at
        WHERE {0}.applied_seq < excluded.applied_seq
        """;

    private const string SelectSql = "SELECT key, value, applied_seq FROM {0} WHERE key = ANY($1::text[])";

    // a lease on the node's one pool for this database, shared with the other stores on it (WithTable's use this one's)
    private readonly PostgresDatabase _database;
    private readonly NpgsqlDataSource _dataSource;
    private readonly bool _ownsLease;
    private readonly string _initializeSql;
    private readonly string _upsertSql;
    private readonly string _selectSql;
    private readonly string _recordRequestsSql;

    /// <summary>Creates a store over an Npgsql connection string. Nothing connects before the first call.</summary>
    /// <param name="connectionString">For example <c>Host=127.0.0.1;Port=5432;Database=writebehind;Username=app;Password=…</c>.</param>
    /// <param name="defaultMaxPoolSize">Pool size when <paramref name="connectionString"/> sets none. <b>Default</b>: <see cref="DefaultMaxPoolSize"/>.</param>
    /// <exception cref="ArgumentException">Empty, or not an Npgsql connection string.</exception>
    public PostgresCounterStore(string connectionString, int defaultMaxPoolSize = DefaultMaxPoolSize)
    {
        _database = PostgresDatabase.Lease(connectionString, defaultMaxPoolSize);
        _dataSource = _database.DataSource;
        _ownsLease = true;
        TableName = CounterTables.DefaultTableName;
        (_initializeSql, _upsertSql, _selectSql) = Sql(TableName);
        _recordRequestsSql = string.Format(System.Globalization.CultureInfo.InvariantCulture, RecordRequestsSql, TableName);
    }

    // another table on the same pool: the lease stays its creator's to dispose
    private PostgresCounterStore(PostgresCounterStore creator, string tableName)
    {
        _database = creator._database;
        _dataSource = creator._dataSource;
        TableName = CounterTables.Validate(tableName, nameof(tableName));
        (_initializeSql, _upsertSql, _selectSql) = Sql(TableName);
        _recordRequestsSql = string.Format(System.Globalization.CultureInfo.InvariantCulture, RecordRequestsSql, TableName);
    }

    /// <summary>Where the store points, without credentials: <c>host:port/database</c>.</summary>
    public string Description => _database.Description;

    /// <inheritdoc />
    public string TableName { get; }

    /// <inheritdoc />
    /// <remarks>The new store shares this store's connection pool; disposing it leaves the pool open (this store closes it).</remarks>
    public ICounterTableStore WithTable(string tableName) => tableName == TableName ? this : new PostgresCounterStore(this, tableName);

    private static (string Initialize, string Upsert, string Select) Sql(string table) =>
        (string.Format(System.Globalization.CultureInfo.InvariantCulture, InitializeSql, table),
            string.Format(System.Globalization.CultureInfo.InvariantCulture, UpsertSql, table),
            string.Format(System.Globalization.CultureInfo.InvariantCulture, SelectSql, table));

    /// <inheritdoc />
    public Task InitializeAsync(CancellationToken cancellationToken = default) =>
        _database.CreateTablesAsync("akka.write-behind:counters", _initializeSql, cancellationToken);

    /// <inheritdoc />
    public async Task<IReadOnlyDictionary<string, StoredCounter>> ApplyAsync(IReadOnlyList<CounterWrite> writes, CancellationToken cancellationToken = default)
    {
        var result = new Dictionary<string, StoredCounter>(writes.Count, StringComparer.Ordinal);
        if (writes.Count == 0)
            return result;

        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        if (writes.Any(w => w.Requests is { Count: > 0 }))
            writes = await RecordRequestsAsync(connection, transaction, writes, cancellationToken).ConfigureAwait(false);
        await using var batch = new NpgsqlBatch(connection, transaction);
        var rounds = Rounds(writes);
        foreach (var round in rounds)
        {
            var command = new NpgsqlBatchCommand(_upsertSql);
            command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = round.Select(w => w.Key).ToArray() });
            command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = round.Select(w => w.Delta).ToArray() });
            command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = round.Select(w => w.Seq).ToArray() });
            batch.BatchCommands.Add(command);
        }

        // the rows after the writes, in the same round trip; the first round holds every key
        await ReadRowsAsync(batch, rounds[0].Select(w => w.Key).ToArray(), result, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return result;
    }

    /// <summary>Records the request ids of the writes that apply; returns the writes without the deltas of repeated ids.</summary>
    private async Task<IReadOnlyList<CounterWrite>> RecordRequestsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction,
        IReadOnlyList<CounterWrite> writes, CancellationToken cancellationToken)
    {
        var ordered = writes.DistinctBy(w => (w.Key, w.Seq)).OrderBy(w => w.Key, StringComparer.Ordinal).ThenBy(w => w.Seq).ToArray();
        var rows = new Dictionary<string, StoredCounter>(StringComparer.Ordinal);
        await using (var read = new NpgsqlBatch(connection, transaction))
            await ReadRowsAsync(read, ordered.Where(w => w.Requests is { Count: > 0 }).Select(w => w.Key).Distinct(StringComparer.Ordinal).ToArray(),
                rows, cancellationToken).ConfigureAwait(false);
        var appliedSeq = rows.ToDictionary(r => r.Key, r => r.Value.AppliedSeq, StringComparer.Ordinal);
        var toRecord = CounterRequests.ToRecord(ordered, appliedSeq);
        var recorded = new HashSet<(string, string)>();
        if (toRecord.Count > 0)
        {
            await using var insert = new NpgsqlCommand(_recordRequestsSql, connection, transaction);
            insert.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = toRecord.Select(r => r.Key).ToArray() });
            insert.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = toRecord.Select(r => r.Request.Id).ToArray() });
            insert.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = toRecord.Select(r => r.Request.ExpiresAt.ToUnixTimeMilliseconds()).ToArray() });
            insert.Parameters.Add(new NpgsqlParameter<long> { TypedValue = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() });
            await using var reader = await insert.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                recorded.Add((reader.GetString(0), reader.GetString(1)));
        }

        return CounterRequests.Adjust(ordered, appliedSeq, recorded);
    }

    /// <inheritdoc />
    public async Task<int> DeleteExpiredRequestsAsync(DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var delete = new NpgsqlCommand(string.Format(System.Globalization.CultureInfo.InvariantCulture,
            "DELETE FROM {0}_requests WHERE expires_at < $1", TableName), connection);
        delete.Parameters.Add(new NpgsqlParameter<long> { TypedValue = now.ToUnixTimeMilliseconds() });
        return await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyDictionary<string, StoredCounter>> ReadAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken = default)
    {
        var result = new Dictionary<string, StoredCounter>(keys.Count, StringComparer.Ordinal);
        if (keys.Count == 0)
            return result;

        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var batch = new NpgsqlBatch(connection);
        await ReadRowsAsync(batch, keys.Distinct(StringComparer.Ordinal).ToArray(), result, cancellationToken).ConfigureAwait(false);
        return result;
    }

    /// <summary>Returns the store's lease on the shared connection pool (the last lease closes it).</summary>
    public ValueTask DisposeAsync() => _ownsLease ? _database.DisposeAsync() : ValueTask.CompletedTask;

    /// <summary>Returns the store's lease on the shared connection pool (the last lease closes it).</summary>
    public void Dispose()
    {
        if (_ownsLease)
            _database.Dispose();
    }

    /// <summary>
    /// The writes as upsert statements: one per (key, seq), in seq order per key. PostgreSQL refuses to update a row twice in
    /// one statement, so the n-th distinct seq of each key goes into the n-th statement (one statement unless a retried write
    /// meets its successor in the same batch). Keys are in ordinal order in every statement, so that concurrent batches lock
    /// rows in the same order.
    /// </summary>
    internal static IReadOnlyList<CounterWrite[]> Rounds(IReadOnlyList<CounterWrite> writes)
    {
        var rounds = new List<List<CounterWrite>>();
        string? previousKey = null;
        var n = 0;
        foreach (var write in writes
                     .DistinctBy(w => (w.Key, w.Seq))
                     .OrderBy(w => w.Key, StringComparer.Ordinal)
                     .ThenBy(w => w.Seq))
        {
            n = write.Key == previousKey ? n + 1 : 0;
            previousKey = write.Key;
            if (rounds.Count == n)
                rounds.Add(new List<CounterWrite>());
            rounds[n].Add(write);
        }

        return rounds.Select(r => r.ToArray()).ToArray();
    }

    /// <summary>Appends the SELECT of <paramref name="keys"/> to <paramref name="batch"/>, runs the batch and reads the rows; a key without a row reads as <see cref="StoredCounter.Empty"/>.</summary>
    private async Task ReadRowsAsync(NpgsqlBatch batch, string[] keys, Dictionary<string, StoredCounter> result, CancellationToken cancellationToken)
    {
        var select = new NpgsqlBatchCommand(_selectSql);
        select.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = keys });
        batch.BatchCommands.Add(select);
        foreach (var key in keys)
            result[key] = StoredCounter.Empty;

        await using var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        do
        {
            // the upserts return no rows; only the final SELECT has three columns
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                result[reader.GetString(0)] = new StoredCounter(reader.GetInt64(1), reader.GetInt64(2));
        }
        while (await reader.NextResultAsync(cancellationToken).ConfigureAwait(false));
    }
}
