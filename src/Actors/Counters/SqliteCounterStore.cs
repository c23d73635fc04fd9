using System.Globalization;
using System.Text;
using Akka.WriteBehind.Sql;
using Microsoft.Data.Sqlite;

namespace Akka.WriteBehind.Counters;

/// <summary>
/// The default <see cref="ICounterStore"/>: a SQLite file in WAL mode with the table
/// <c>counters(key text primary key, value bigint not null, applied_seq bigint not null, updated_at timestamp)</c>
/// (another counter set gets its own table of that shape: <see cref="WithTable"/>).
/// Each batch is one transaction of multi-row upserts (<c>INSERT … ON CONFLICT (key) DO UPDATE … WHERE applied_seq &lt; excluded.applied_seq</c>).
/// </summary>
public sealed class SqliteCounterStore : ICounterTableStore
{
    // the file's connection string and its write lock, shared with every other store on the file (WithTable's too)
    private readonly SqliteDatabase _database;

    /// <summary>Creates a store over a Microsoft.Data.Sqlite connection string, on the table <c>counters</c>.</summary>
    /// <param name="connectionString">For example <c>Data Source=./data/writebehind.db</c>.</param>
    public SqliteCounterStore(string connectionString)
        : this(new SqliteDatabase(connectionString), CounterTables.DefaultTableName)
    {
    }

    private SqliteCounterStore(SqliteDatabase database, string tableName)
    {
        _database = database;
        TableName = CounterTables.Validate(tableName, nameof(tableName));
    }

    /// <summary>The table of the request ids recorded with the rows (<see cref="CounterRequests.TableOf"/>).</summary>
    private string RequestsTable => CounterRequests.TableOf(TableName);

    /// <summary>The database file.</summary>
    public string DataSource => _database.DataSource;

    /// <inheritdoc />
    public string TableName { get; }

    /// <inheritdoc />
    public ICounterTableStore WithTable(string tableName) =>
        tableName == TableName ? this : new SqliteCounterStore(_database, tableName);

    /// <summary>A store over the file <paramref name="fileName"/> in <paramref name="dataDir"/> (created when missing).</summary>
    /// <param name="dataDir">Directory of the database file.</param>
    /// <param name="fileName">File name. <b>Default</b>: <c>writebehind.db</c>.</param>
    public static SqliteCounterStore ForDirectory(string dataDir, string fileName = "writebehind.db") =>
        new(SqliteStores.FileConnectionString(dataDir, fileName));

    /// <inheritdoc />
    public Task InitializeAsync(CancellationToken cancellationToken = default) =>
        // typeof check: SQLite turns an integer overflow into a REAL; refuse that instead of storing a rounded value.
        _database.CreateTablesAsync($"""
            CREATE TABLE IF NOT EXISTS {TableName} (
                key TEXT NOT NULL PRIMARY KEY,
                value BIGINT NOT NULL CHECK (typeof(value) = 'integer'),
                applied_seq BIGINT NOT NULL,
                updated_at TIMESTAMP
            );
            CREATE TABLE IF NOT EXISTS {RequestsTable} (
                key TEXT NOT NULL,
                request_id TEXT NOT NULL,
                expires_at BIGINT NOT NULL,
                PRIMARY KEY (key, request_id)
            ) WITHOUT ROWID;
            CREATE INDEX IF NOT EXISTS {RequestsTable}_expires_at ON {RequestsTable} (expires_at);
            """, cancellationToken);

    /// <inheritdoc />
    public async Task<IReadOnlyDictionary<string, StoredCounter>> ApplyAsync(IReadOnlyList<CounterWrite> writes, CancellationToken cancellationToken = default)
    {
        var result = new Dictionary<string, StoredCounter>(writes.Count, StringComparer.Ordinal);
        if (writes.Count == 0)
            return result;

        // a retried write may meet its earlier copy in one batch: keep one per (key, seq), in seq order per key
        var ordered = writes
            .DistinctBy(w => (w.Key, w.Seq))
            .OrderBy(w => w.Key, StringComparer.Ordinal)
            .ThenBy(w => w.Seq)
            .ToArray();

        using var writing = await _database.LockWritesAsync(cancellationToken).ConfigureAwait(false);
        return await ApplyLockedAsync(ordered, result, cancellationToken).ConfigureAwait(false);
    }

    private async Task<IReadOnlyDictionary<string, StoredCounter>> ApplyLockedAsync(CounterWrite[] ordered,
        Dictionary<string, StoredCounter> result, CancellationToken cancellationToken)
    {
        var now = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture);
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        if (ordered.Any(w => w.Requests is { Count: > 0 }))
            ordered = await RecordRequestsAsync(connection, transaction, ordered, cancellationToken).ConfigureAwait(false);
        // every row in one JSON parameter, unpacked by json_each: named parameters are bound by a linear search of the
        // statement's names, which made a multi-row VALUES statement cost the square of its rows
        await using (var upsert = connection.CreateCommand())
        {
            upsert.Transaction = transaction;
            upsert.Parameters.AddWithValue("@rows", SqliteDatabase.JsonRows(ordered, static (json, w) =>
            {
                json.WriteStringValue(w.Key);
                json.WriteNumberValue(w.Delta);
                json.WriteNumberValue(w.Seq);
            }));
            upsert.Parameters.AddWithValue("@t", now);
            // ORDER BY the array index: two writes of one key apply in sequence order
            upsert.CommandText = $"""
                INSERT INTO {TableName} (key, value, applied_seq, updated_at)
                SELECT r.value ->> 0, r.value ->> 1, r.value ->> 2, @t FROM json_each(@rows) AS r WHERE true ORDER BY r.key
                ON CONFLICT (key) DO UPDATE SET
                   value = {TableName}.value + excluded.value,
                   applied_seq = excluded.applied_seq,
                   updated_at = excluded.updated_at
                WHERE {TableName}.applied_seq < excluded.applied_seq
                """;
            await upsert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        var keys = ordered.Select(w => w.Key).Distinct(StringComparer.Ordinal).ToArray();
        await ReadIntoAsync(connection, transaction, keys, result, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return result;
    }

    /// <summary>Records the request ids of the writes that apply; returns the writes without the deltas of repeated ids.</summary>
    private async Task<CounterWrite[]> RecordRequestsAsync(SqliteConnection connection, SqliteTransaction transaction, CounterWrite[] ordered,
        CancellationToken cancellationToken)
    {
        var rows = new Dictionary<string, StoredCounter>(StringComparer.Ordinal);
        var keys = ordered.Where(w => w.Requests is { Count: > 0 }).Select(w => w.Key).Distinct(StringComparer.Ordinal).ToArray();
        await ReadIntoAsync(connection, transaction, keys, rows, cancellationToken).ConfigureAwait(false);
        var appliedSeq = rows.ToDictionary(r => r.Key, r => r.Value.AppliedSeq, StringComparer.Ordinal);
        var recorded = new HashSet<(string, string)>();
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        foreach (var chunk in CounterRequests.ToRecord(ordered, appliedSeq).Chunk(SqliteDatabase.RowsPerStatement))
        {
            await using var insert = connection.CreateCommand();
            insert.Transaction = transaction;
            var sql = new StringBuilder("INSERT INTO ").Append(RequestsTable).Append(" (key, request_id, expires_at) VALUES ");
            for (var i = 0; i < chunk.Length; i++)
            {
                if (i > 0)
                    sql.Append(',');
                sql.Append("(@k").Append(i).Append(",@r").Append(i).Append(",@e").Append(i).Append(')');
                insert.Parameters.AddWithValue("@k" + i, chunk[i].Key);
                insert.Parameters.AddWithValue("@r" + i, chunk[i].Request.Id);
                insert.Parameters.AddWithValue("@e" + i, chunk[i].Request.ExpiresAt.ToUnixTimeMilliseconds());
            }

            // an expired id counts as new again; RETURNING lists the rows inserted or renewed, not the repeats
            insert.Parameters.AddWithValue("@now", now);
            insert.CommandText = sql.Append($"""
                 ON CONFLICT (key, request_id) DO UPDATE SET expires_at = excluded.expires_at
                 WHERE {RequestsTable}.expires_at < @now
                 RETURNING key, request_id
                """).ToString();
            await using var reader = await insert.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                recorded.Add((reader.GetString(0), reader.GetString(1)));
        }

        return CounterRequests.Adjust(ordered, appliedSeq, recorded);
    }

    /// <inheritdoc />
    public async Task<int> DeleteExpiredRequestsAsync(DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        using var writing = await _database.LockWritesAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var delete = connection.CreateCommand();
        delete.CommandText = $"DELETE FROM {RequestsTable} WHERE expires_at < @now";
        delete.Parameters.AddWithValue("@now", now.ToUnixTimeMilliseconds());
        return await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyDictionary<string, StoredCounter>> ReadAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken = default)
    {
        var result = new Dictionary<string, StoredCounter>(keys.Count, StringComparer.Ordinal);
        if (keys.Count == 0)
            return result;

        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await ReadIntoAsync(connection, null, keys.Distinct(StringComparer.Ordinal).ToArray(), result, cancellationToken).ConfigureAwait(false);
        return result;
    }

    private async Task ReadIntoAsync(SqliteConnection connection, SqliteTransaction? transaction, string[] keys,
        Dictionary<string, StoredCounter> result, CancellationToken cancellationToken)
    {
        await using var select = connection.CreateCommand();
        select.Transaction = transaction;
        select.CommandText = $"SELECT key, value, applied_seq FROM {TableName} WHERE key IN (SELECT value FROM json_each(@keys))";
        select.Parameters.AddWithValue("@keys", SqliteDatabase.JsonRows(keys, static (json, key) => json.WriteStringValue(key), nested: false));
        foreach (var key in keys)
            result[key] = StoredCounter.Empty;
        await using var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            result[reader.GetString(0)] = new StoredCounter(reader.GetInt64(1), reader.GetInt64(2));
    }

    private Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken) => _database.OpenAsync(cancellationToken);
}
