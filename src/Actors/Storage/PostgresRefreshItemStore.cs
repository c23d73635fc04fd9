using Akka.WriteBehind.Refresh;
using Npgsql;

namespace Akka.WriteBehind.Storage;

/// <summary>
/// The PostgreSQL <see cref="IRefreshItemStore"/>: the table <c>refresh_items</c> in the connection's default schema,
/// created under an advisory lock so that nodes starting together do not collide.
/// </summary>
public sealed class PostgresRefreshItemStore : IRefreshItemStore, IAsyncDisposable, IDisposable
{
    private const string InitializeSql = """
        SELECT pg_advisory_xact_lock(hashtext('akka.write-behind:refresh_items'));
        CREATE TABLE IF NOT EXISTS refresh_items (
            id TEXT NOT NULL PRIMARY KEY,
            state TEXT NOT NULL,
            terminal BOOLEAN NOT NULL,
            updated_at TIMESTAMP
        );
        """;

    private const string SaveSql = """
        INSERT INTO refresh_items (id, state, terminal, updated_at) VALUES ($1, $2, $3, timezone('utc', now()))
        ON CONFLICT (id) DO UPDATE SET state = excluded.state, terminal = excluded.terminal, updated_at = excluded.updated_at
        """;

    // one statement for any number of rows; the ids are distinct (ON CONFLICT cannot touch a row twice in one statement)
    private const string SaveManySql = """
        INSERT INTO refresh_items (id, state, terminal, updated_at)
        SELECT w.id, w.state, w.terminal, timezone('utc', now()) FROM unnest($1::text[], $2::text[], $3::boolean[]) AS w(id, state, terminal)
        ON CONFLICT (id) DO UPDATE SET state = excluded.state, terminal = excluded.terminal, updated_at = excluded.updated_at
        """;

    // COLLATE "C": byte order, the same as the ordinal order of the keyset whatever the database's collation
    private const string ActiveIdsSql = """
        SELECT id FROM refresh_items WHERE NOT terminal AND ($1::text IS NULL OR id COLLATE "C" > $1::text)
        ORDER BY id COLLATE "C" LIMIT $2
        """;

    private readonly NpgsqlDataSource _dataSource;

    /// <summary>Creates a store over an Npgsql connection string. Nothing connects before the first call.</summary>
    /// <param name="connectionString">For example <c>Host=127.0.0.1;Port=5432;Database=writebehind;Username=app;Password=…</c>.</param>
    /// <param name="defaultMaxPoolSize">Pool size when <paramref name="connectionString"/> sets none. <b>Default</b>: <see cref="PostgresCounterStore.DefaultMaxPoolSize"/>.</param>
    /// <exception cref="ArgumentException">Empty, or not an Npgsql connection string.</exception>
    public PostgresRefreshItemStore(string connectionString, int defaultMaxPoolSize = PostgresCounterStore.DefaultMaxPoolSize)
    {
        if (string.IsNullOrWhiteSpace(connectionString))
            throw new ArgumentException("A PostgreSQL connection string is required.", nameof(connectionString));
        _dataSource = NpgsqlDataSource.Create(PostgresConnectionStrings.WithDefaultMaxPoolSize(connectionString, defaultMaxPoolSize));
    }

    /// <inheritdoc />
    public async Task InitializeAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(InitializeSql, connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<RefreshItem?> LoadAsync(string id, CancellationToken cancellationToken = default)
    {
        await using var command = _dataSource.CreateCommand("SELECT state, terminal FROM refresh_items WHERE id = $1");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = id });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            return null;
        return new RefreshItem(id, reader.GetString(0), reader.GetBoolean(1));
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
        await using var command = _dataSource.CreateCommand("DELETE FROM refresh_items WHERE id = $1");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = id });
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    /// <remarks>One transaction of at most two statements: one upsert of every saved item, one delete of every deleted id.</remarks>
    public async Task ApplyAsync(IReadOnlyList<RefreshItemWrite> writes, CancellationToken cancellationToken = default)
    {
        var last = RefreshItemWrite.LastPerId(writes);
        if (last.Length == 0)
            return;

        var saves = last.Where(w => w.Item is not null).Select(w => w.Item!).ToArray();
        var deletes = last.Where(w => w.Item is null).Select(w => w.Id).ToArray();
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        if (saves.Length > 0)
        {
            await using var upsert = new NpgsqlCommand(SaveManySql, connection, transaction);
            upsert.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = saves.Select(i => i.Id).ToArray() });
            upsert.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = saves.Select(i => i.State).ToArray() });
            upsert.Parameters.Add(new NpgsqlParameter<bool[]> { TypedValue = saves.Select(i => i.Terminal).ToArray() });
            await upsert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        if (deletes.Length > 0)
        {
            await using var delete = new NpgsqlCommand("DELETE FROM refresh_items WHERE id = ANY($1)", connection, transaction);
            delete.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = deletes });
            await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
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

    /// <summary>Closes the store's connection pool.</summary>
    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();

    /// <summary>Closes the store's connection pool.</summary>
    public void Dispose() => _dataSource.Dispose();
}
