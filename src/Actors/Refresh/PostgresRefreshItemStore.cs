using Akka.WriteBehind.Sql;
using Npgsql;

namespace Akka.WriteBehind.Refresh;

/// <summary>
/// The PostgreSQL <see cref="IRefreshItemStore"/>: the table <c>refresh_items</c> (or <see cref="TableName"/>) in the
/// connection's default schema,
/// created under an advisory lock so that nodes starting together do not collide.
/// </summary>
public sealed class PostgresRefreshItemStore : IRefreshItemStore, IAsyncDisposable, IDisposable
{
    private string InitializeSql => $"""
        CREATE TABLE IF NOT EXISTS {_table} (
            id TEXT NOT NULL PRIMARY KEY,
            state TEXT NOT NULL,
            terminal BOOLEAN NOT NULL,
            updated_at TIMESTAMP,
            version BIGINT NOT NULL DEFAULT 0
        );
        ALTER TABLE {_table} ADD COLUMN IF NOT EXISTS version BIGINT NOT NULL DEFAULT 0;
        """;

    private string SaveSql => $"""
        INSERT INTO {_table} (id, state, terminal, updated_at) VALUES ($1, $2, $3, timezone('utc', now()))
        ON CONFLICT (id) DO UPDATE SET state = excluded.state, terminal = excluded.terminal, updated_at = excluded.updated_at
        """;

    // one statement for any number of rows; the ids are distinct (ON CONFLICT cannot touch a row twice in one statement)
    private string SaveManySql => $"""
        INSERT INTO {_table} (id, state, terminal, updated_at, version)
        SELECT w.id, w.state, w.terminal, timezone('utc', now()), w.version
        FROM unnest($1::text[], $2::text[], $3::boolean[], $4::bigint[]) AS w(id, state, terminal, version)
        ON CONFLICT (id) DO UPDATE SET state = excluded.state, terminal = excluded.terminal, updated_at = excluded.updated_at,
            version = excluded.version
        """;

    // a sync's result: only over a row older than the result, never creating one (the item was deleted meanwhile)
    private string SyncSaveManySql => $"""
        UPDATE {_table} AS r SET state = w.state, terminal = w.terminal, updated_at = timezone('utc', now()), version = w.version
        FROM unnest($1::text[], $2::text[], $3::boolean[], $4::bigint[]) AS w(id, state, terminal, version)
        WHERE r.id = w.id AND r.version < w.version
        """;

    private string SyncDeleteManySql => $"""
        DELETE FROM {_table} AS r USING unnest($1::text[], $2::bigint[]) AS w(id, version)
        WHERE r.id = w.id AND r.version < w.version
        """;

    // COLLATE "C": byte order, the same as the ordinal order of the keyset whatever the database's collation
    private string ActiveIdsSql => $"""
        SELECT id FROM {_table} WHERE NOT terminal AND ($1::text IS NULL OR id COLLATE "C" > $1::text)
        ORDER BY id COLLATE "C" LIMIT $2
        """;

    // a lease on the node's one pool for this database, shared with the other stores on it
    private readonly PostgresDatabase _database;
    private readonly NpgsqlDataSource _dataSource;
    private readonly string _table;

    /// <summary>Creates a store over an Npgsql connection string. Nothing connects before the first call.</summary>
    /// <param name="connectionString">For example <c>Host=127.0.0.1;Port=5432;Database=writebehind;Username=app;Password=…</c>.</param>
    /// <param name="defaultMaxPoolSize">Pool size when <paramref name="connectionString"/> sets none. <b>Default</b>: <see cref="SqlStorage.DefaultMaxPoolSize"/>.</param>
    /// <param name="tableName">The table of the items (see <see cref="RefreshTables.DerivedFrom"/>). <b>Default</b>: <c>refresh_items</c>.</param>
    /// <exception cref="ArgumentException">Empty, or not an Npgsql connection string; or <paramref name="tableName"/> is not a
    /// lowercase SQL identifier.</exception>
    public PostgresRefreshItemStore(string connectionString, int defaultMaxPoolSize = SqlStorage.DefaultMaxPoolSize,
        string tableName = RefreshTables.DefaultTableName)
    {
        _table = RefreshTables.Validate(tableName, nameof(tableName));
        _database = PostgresDatabase.Lease(connectionString, defaultMaxPoolSize);
        _dataSource = _database.DataSource;
    }

    /// <summary>The table of the items.</summary>
    public string TableName => _table;

    /// <inheritdoc />
    public Task InitializeAsync(CancellationToken cancellationToken = default) =>
        _database.CreateTablesAsync("akka.write-behind:" + _table, InitializeSql, cancellationToken);

    /// <inheritdoc />
    public async Task<RefreshItem?> LoadAsync(string id, CancellationToken cancellationToken = default) =>
        (await LoadVersionedAsync(id, cancellationToken).ConfigureAwait(false))?.Item;

    /// <inheritdoc />
    public async Task<StoredRefreshItem?> LoadVersionedAsync(string id, CancellationToken cancellationToken = default)
    {
        await using var command = _dataSource.CreateCommand($"SELECT state, terminal, version FROM {_table} WHERE id = $1");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = id });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            return null;
        return new StoredRefreshItem(new RefreshItem(id, reader.GetString(0), reader.GetBoolean(1)), reader.GetInt64(2));
    }

    /// <inheritdoc />
    public async Task SaveAsync(RefreshItem item, CancellationToken cancellationToken = default)
    {
        await using var command = _dataSource.CreateCommand(SaveSql);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = item.Id });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = item.State });
        command.Parameters.Add(new NpgsqlParameter<bool> { TypedValue = item.Terminal });
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task DeleteAsync(string id, CancellationToken cancellationToken = default)
    {
        await using var command = _dataSource.CreateCommand($"DELETE FROM {_table} WHERE id = $1");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = id });
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    /// <remarks>One transaction of at most four statements: one upsert of every saved item, one conditional update of every
    /// sync result, one delete of every deleted id, one conditional delete of every sync's deletion.</remarks>
    public async Task ApplyAsync(IReadOnlyList<RefreshItemWrite> writes, CancellationToken cancellationToken = default)
    {
        var last = RefreshItemWrite.LastPerId(writes);
        if (last.Length == 0)
            return;

        var saves = last.Where(w => w.Item is not null && !w.IfOlder).ToArray();
        var deletes = last.Where(w => w.Item is null && !w.IfOlder).Select(w => w.Id).ToArray();
        var syncSaves = last.Where(w => w.Item is not null && w.IfOlder).ToArray();
        var syncDeletes = last.Where(w => w.Item is null && w.IfOlder).ToArray();
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await SaveManyAsync(SaveManySql, saves, connection, transaction, cancellationToken).ConfigureAwait(false);
        await SaveManyAsync(SyncSaveManySql, syncSaves, connection, transaction, cancellationToken).ConfigureAwait(false);
        if (deletes.Length > 0)
        {
            await using var delete = new NpgsqlCommand($"DELETE FROM {_table} WHERE id = ANY($1)", connection, transaction);
            delete.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = deletes });
            await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        if (syncDeletes.Length > 0)
        {
            await using var delete = new NpgsqlCommand(SyncDeleteManySql, connection, transaction);
            delete.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = syncDeletes.Select(w => w.Id).ToArray() });
            delete.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = syncDeletes.Select(w => w.Version).ToArray() });
            await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task SaveManyAsync(string sql, RefreshItemWrite[] saves, NpgsqlConnection connection,
        NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        if (saves.Length == 0)
            return;
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = saves.Select(w => w.Id).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = saves.Select(w => w.Item!.State).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<bool[]> { TypedValue = saves.Select(w => w.Item!.Terminal).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = saves.Select(w => w.Version).ToArray() });
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<string>> ActiveIdsAsync(string? after, int limit, CancellationToken cancellationToken = default)
    {
        await using var command = _dataSource.CreateCommand(ActiveIdsSql);
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)after ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
        var ids = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            ids.Add(reader.GetString(0));
        return ids;
    }

    /// <summary>Returns the store's lease on the shared connection pool (the last lease closes it).</summary>
    public ValueTask DisposeAsync() => _database.DisposeAsync();

    /// <summary>Returns the store's lease on the shared connection pool (the last lease closes it).</summary>
    public void Dispose() => _database.Dispose();
}
