using System.Globalization;
using System.Text;
using Akka.WriteBehind.Sql;
using Microsoft.Data.Sqlite;

namespace Akka.WriteBehind.Refresh;

/// <summary>
/// The default <see cref="IRefreshItemStore"/>: the table <c>refresh_items</c> (or <see cref="TableName"/>) in a SQLite file
/// (WAL mode), by default the same file as the counters.
/// </summary>
public sealed class SqliteRefreshItemStore : IRefreshItemStore
{
    // the file's connection string and its write lock, shared with every other store on the file
    private readonly SqliteDatabase _database;
    private readonly string _table;

    /// <summary>Creates a store over a Microsoft.Data.Sqlite connection string.</summary>
    /// <param name="connectionString">For example <c>Data Source=./data/writebehind.db</c>.</param>
    /// <param name="tableName">The table of the items (see <see cref="RefreshTables.DerivedFrom"/>). <b>Default</b>: <c>refresh_items</c>.</param>
    /// <exception cref="ArgumentException"><paramref name="tableName"/> is not a lowercase SQL identifier.</exception>
    public SqliteRefreshItemStore(string connectionString, string tableName = RefreshTables.DefaultTableName)
    {
        _database = new SqliteDatabase(connectionString);
        _table = RefreshTables.Validate(tableName, nameof(tableName));
    }

    /// <summary>The table of the items.</summary>
    public string TableName => _table;

    /// <summary>The database file.</summary>
    public string DataSource => _database.DataSource;

    /// <summary>A store over the file <paramref name="fileName"/> in <paramref name="dataDir"/> (created when missing).</summary>
    /// <param name="dataDir">Directory of the database file.</param>
    /// <param name="fileName">File name. <b>Default</b>: <c>writebehind.db</c>.</param>
    public static SqliteRefreshItemStore ForDirectory(string dataDir, string fileName = "writebehind.db") =>
        new(SqliteStores.FileConnectionString(dataDir, fileName));

    /// <inheritdoc />
    /// <remarks>A table made before rows had versions gets the <c>version</c> column (0 for its rows).</remarks>
    public Task InitializeAsync(CancellationToken cancellationToken = default) => _database.CreateTablesAsync($"""
        CREATE TABLE IF NOT EXISTS {_table} (
            id TEXT NOT NULL PRIMARY KEY,
            state TEXT NOT NULL,
            terminal BOOLEAN NOT NULL,
            updated_at TIMESTAMP,
            version INTEGER NOT NULL DEFAULT 0
        );
        """, cancellationToken, (_table, "version", "INTEGER NOT NULL DEFAULT 0"));

    /// <inheritdoc />
    public async Task<RefreshItem?> LoadAsync(string id, CancellationToken cancellationToken = default) =>
        (await LoadVersionedAsync(id, cancellationToken).ConfigureAwait(false))?.Item;

    /// <inheritdoc />
    public async Task<StoredRefreshItem?> LoadVersionedAsync(string id, CancellationToken cancellationToken = default)
    {
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT state, terminal, version FROM {_table} WHERE id = @id";
        command.Parameters.AddWithValue("@id", id);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            return null;
        return new StoredRefreshItem(new RefreshItem(id, reader.GetString(0), reader.GetInt64(1) != 0), reader.GetInt64(2));
    }

    /// <inheritdoc />
    public async Task SaveAsync(RefreshItem item, CancellationToken cancellationToken = default)
    {
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            INSERT INTO {_table} (id, state, terminal, updated_at) VALUES (@id, @state, @terminal, @now)
            ON CONFLICT (id) DO UPDATE SET state = excluded.state, terminal = excluded.terminal, updated_at = excluded.updated_at
            """;
        command.Parameters.AddWithValue("@id", item.Id);
        command.Parameters.AddWithValue("@state", item.State);
        command.Parameters.AddWithValue("@terminal", item.Terminal ? 1 : 0);
        command.Parameters.AddWithValue("@now", DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task DeleteAsync(string id, CancellationToken cancellationToken = default)
    {
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = $"DELETE FROM {_table} WHERE id = @id";
        command.Parameters.AddWithValue("@id", id);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    /// <remarks>One transaction: multi-row upserts and one delete per chunk of ids. Microsoft.Data.Sqlite runs synchronously:
    /// callers that must not block a thread call it on the thread pool.</remarks>
    public async Task ApplyAsync(IReadOnlyList<RefreshItemWrite> writes, CancellationToken cancellationToken = default)
    {
        var last = RefreshItemWrite.LastPerId(writes);
        if (last.Length == 0)
            return;

        var now = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture);
        using var writing = await _database.LockWritesAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        foreach (var chunk in last.Where(w => w.Item is not null && !w.IfOlder).Chunk(SqliteDatabase.RowsPerStatement))
        {
            await using var upsert = connection.CreateCommand();
            upsert.Transaction = transaction;
            var sql = new StringBuilder($"INSERT INTO {_table} (id, state, terminal, updated_at, version) VALUES ");
            for (var i = 0; i < chunk.Length; i++)
            {
                if (i > 0)
                    sql.Append(',');
                sql.Append("(@i").Append(i).Append(",@s").Append(i).Append(",@t").Append(i).Append(",@now,@v").Append(i).Append(')');
                upsert.Parameters.AddWithValue("@i" + i, chunk[i].Id);
                upsert.Parameters.AddWithValue("@s" + i, chunk[i].Item!.State);
                upsert.Parameters.AddWithValue("@t" + i, chunk[i].Item!.Terminal ? 1 : 0);
                upsert.Parameters.AddWithValue("@v" + i, chunk[i].Version);
            }

            upsert.Parameters.AddWithValue("@now", now);
            sql.Append(" ON CONFLICT (id) DO UPDATE SET state = excluded.state, terminal = excluded.terminal, ")
                .Append("updated_at = excluded.updated_at, version = excluded.version");
            upsert.CommandText = sql.ToString();
            await upsert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await ApplySyncResultsAsync(connection, transaction, last.Where(w => w.IfOlder).ToArray(), now, cancellationToken).ConfigureAwait(false);

        foreach (var chunk in last.Where(w => w.Item is null && !w.IfOlder).Chunk(SqliteDatabase.RowsPerStatement))
        {
            await using var delete = connection.CreateCommand();
            delete.Transaction = transaction;
            var names = new string[chunk.Length];
            for (var i = 0; i < chunk.Length; i++)
            {
                names[i] = "@i" + i;
                delete.Parameters.AddWithValue(names[i], chunk[i].Id);
            }

            delete.CommandText = $"DELETE FROM {_table} WHERE id IN ({string.Join(',', names)})";
            await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    // A sync's result changes the row only if no newer change was stored since the state the sync started from; it never
    // creates a row (the item was deleted meanwhile). One prepared statement per kind, one execution per row.
    private async Task ApplySyncResultsAsync(SqliteConnection connection, SqliteTransaction transaction,
        RefreshItemWrite[] writes, string now, CancellationToken cancellationToken)
    {
        if (writes.Length == 0)
            return;
        await using var update = connection.CreateCommand();
        update.Transaction = transaction;
        update.CommandText = $"""
            UPDATE {_table} SET state = @state, terminal = @terminal, updated_at = @now, version = @version
            WHERE id = @id AND version < @version
            """;
        var (uId, uState, uTerminal, uVersion) = (update.Parameters.Add("@id", SqliteType.Text), update.Parameters.Add("@state", SqliteType.Text),
            update.Parameters.Add("@terminal", SqliteType.Integer), update.Parameters.Add("@version", SqliteType.Integer));
        update.Parameters.AddWithValue("@now", now);
        await using var delete = connection.CreateCommand();
        delete.Transaction = transaction;
        delete.CommandText = $"DELETE FROM {_table} WHERE id = @id AND version < @version";
        var (dId, dVersion) = (delete.Parameters.Add("@id", SqliteType.Text), delete.Parameters.Add("@version", SqliteType.Integer));
        foreach (var write in writes)
        {
            if (write.Item is { } item)
            {
                (uId.Value, uState.Value, uTerminal.Value, uVersion.Value) = (write.Id, item.State, item.Terminal ? 1 : 0, write.Version);
                await update.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
            else
            {
                (dId.Value, dVersion.Value) = (write.Id, write.Version);
                await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<string>> ActiveIdsAsync(string? after, int limit, CancellationToken cancellationToken = default)
    {
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        // TEXT compares with BINARY collation: byte order of UTF-8, the same order as ordinal for the keyset
        command.CommandText = $"SELECT id FROM {_table} WHERE terminal = 0 AND (@after IS NULL OR id > @after) ORDER BY id LIMIT @limit";
        command.Parameters.AddWithValue("@after", (object?)after ?? DBNull.Value);
        command.Parameters.AddWithValue("@limit", limit);
        var ids = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            ids.Add(reader.GetString(0));
        return ids;
    }
}
