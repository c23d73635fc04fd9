using System.Globalization;
using Akka.WriteBehind.Refresh;
using Microsoft.Data.Sqlite;

namespace Akka.WriteBehind.Storage;

/// <summary>
/// The default <see cref="IRefreshItemStore"/>: the table <c>refresh_items</c> in a SQLite file (WAL mode), by default the
/// same file as the counters.
/// </summary>
public sealed class SqliteRefreshItemStore : IRefreshItemStore
{
    private readonly string _connectionString;

    /// <summary>Creates a store over a Microsoft.Data.Sqlite connection string.</summary>
    /// <param name="connectionString">For example <c>Data Source=./data/writebehind.db</c>.</param>
    public SqliteRefreshItemStore(string connectionString)
    {
        DataSource = SqliteStores.DataSourceOf(connectionString, nameof(connectionString));
        _connectionString = connectionString;
    }

    /// <summary>The database file.</summary>
    public string DataSource { get; }

    /// <summary>A store over the file <paramref name="fileName"/> in <paramref name="dataDir"/> (created when missing).</summary>
    /// <param name="dataDir">Directory of the database file.</param>
    /// <param name="fileName">File name. <b>Default</b>: <c>writebehind.db</c>.</param>
    public static SqliteRefreshItemStore ForDirectory(string dataDir, string fileName = "writebehind.db") =>
        new(SqliteStores.FileConnectionString(dataDir, fileName));

    /// <inheritdoc />
    public async Task InitializeAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await SqliteStores.OpenAsync(_connectionString, cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            PRAGMA journal_mode = WAL;
            CREATE TABLE IF NOT EXISTS refresh_items (
                id TEXT NOT NULL PRIMARY KEY,
                state TEXT NOT NULL,
                terminal BOOLEAN NOT NULL,
                updated_at TIMESTAMP
            );
            """;
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<RefreshItem?> LoadAsync(string id, CancellationToken cancellationToken = default)
    {
        await using var connection = await SqliteStores.OpenAsync(_connectionString, cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT state, terminal FROM refresh_items WHERE id = @id";
        command.Parameters.AddWithValue("@id", id);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            return null;
        return new RefreshItem(id, reader.GetString(0), reader.GetInt64(1) != 0);
    }

    /// <inheritdoc />
    public async Task SaveAsync(RefreshItem item, CancellationToken cancellationToken = default)
    {
        await using var connection = await SqliteStores.OpenAsync(_connectionString, cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO refresh_items (id, state, terminal, updated_at) VALUES (@id, @state, @terminal, @now)
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
        await using var connection = await SqliteStores.OpenAsync(_connectionString, cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM refresh_items WHERE id = @id";
        command.Parameters.AddWithValue("@id", id);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<string>> ActiveIdsAsync(string? after, int limit, CancellationToken cancellationToken = default)
    {
        await using var connection = await SqliteStores.OpenAsync(_connectionString, cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        // TEXT compares with BINARY collation: byte order of UTF-8, the same order as ordinal for the keyset
        command.CommandText = "SELECT id FROM refresh_items WHERE terminal = 0 AND (@after IS NULL OR id > @after) ORDER BY id LIMIT @limit";
        command.Parameters.AddWithValue("@after", (object?)after ?? DBNull.Value);
        command.Parameters.AddWithValue("@limit", limit);
        var ids = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            ids.Add(reader.GetString(0));
        return ids;
    }
}
