using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;

namespace Akka.WriteBehind.Sql;

/// <summary>
/// A SQLite database file as every store on it shares it: its connection string, and one write lock per file for the whole
/// process. SQLite has one writer at a time; stores that write to one file (counters, refresh items, a sample's tables) take
/// turns here instead of meeting as busy retries inside SQLite.
/// </summary>
public sealed class SqliteDatabase
{
    // one lock per database file this process writes to; files are few (one per configured database)
    private static readonly ConcurrentDictionary<string, SemaphoreSlim> WriteLocks = new(StringComparer.Ordinal);

    private readonly SemaphoreSlim _writeLock;

    /// <summary>
    /// Rows per multi-row statement. Microsoft.Data.Sqlite binds each named parameter through a linear search of the
    /// statement's parameter names, so binding grows with the square of the parameters in one statement: at 500 rows
    /// (1,500 parameters) that search was a tenth of the durable counters' CPU; at 50 rows it no longer shows in a profile.
    /// </summary>
    public const int RowsPerStatement = 50;

    /// <summary>
    /// <paramref name="rows"/> as one JSON array for a single parameter, read in SQL with <c>json_each</c>: each row an array
    /// written by <paramref name="write"/> (<c>r.value -&gt;&gt; 0</c>, …), or with <paramref name="nested"/> off one value per
    /// row (<c>r.value</c>). One parameter however many rows, so no statement pays the name search of many parameters.
    /// </summary>
    public static string JsonRows<T>(IEnumerable<T> rows, Action<System.Text.Json.Utf8JsonWriter, T> write, bool nested = true)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var json = new System.Text.Json.Utf8JsonWriter(buffer, new System.Text.Json.JsonWriterOptions
               {
                   Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
                   SkipValidation = true,
               }))
        {
            json.WriteStartArray();
            foreach (var row in rows)
            {
                if (nested)
                    json.WriteStartArray();
                write(json, row);
                if (nested)
                    json.WriteEndArray();
            }

            json.WriteEndArray();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>The database of <paramref name="connectionString"/>.</summary>
    /// <param name="connectionString">A Microsoft.Data.Sqlite connection string, e.g. <c>Data Source=./data/writebehind.db</c>.</param>
    /// <exception cref="ArgumentException">Empty or not a SQLite connection string.</exception>
    public SqliteDatabase(string connectionString)
    {
        if (string.IsNullOrWhiteSpace(connectionString))
            throw new ArgumentException("A SQLite connection string is required.", nameof(connectionString));
        ConnectionString = connectionString;
        DataSource = new SqliteConnectionStringBuilder(connectionString).DataSource;
        _writeLock = WriteLocks.GetOrAdd(Path.GetFullPath(DataSource), _ => new SemaphoreSlim(1, 1));
    }

    /// <summary>The connection string.</summary>
    public string ConnectionString { get; }

    /// <summary>The database file.</summary>
    public string DataSource { get; }

    /// <summary>Opens a connection.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    public async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(ConnectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Waits until no other store of this process writes to the file; dispose the result to let the next one in.</summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    public async Task<IDisposable> LockWritesAsync(CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        return new Releaser(_writeLock);
    }

    /// <summary>
    /// Switches the file to WAL and runs <paramref name="ddl"/> in one <c>BEGIN IMMEDIATE</c> transaction under the write
    /// lock, so that two stores or processes creating tables in one file do not interleave; in the same transaction, adds
    /// each of <paramref name="addedColumns"/> that a table made by an older version lacks (SQLite has no
    /// <c>ADD COLUMN IF NOT EXISTS</c>).
    /// </summary>
    /// <param name="ddl">The statements that create the tables and indexes.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <param name="addedColumns">Columns added after a table's first version: table, column, and its definition.</param>
    public async Task CreateTablesAsync(string ddl, CancellationToken cancellationToken,
        params (string Table, string Column, string Definition)[] addedColumns)
    {
        using var writing = await LockWritesAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (var wal = connection.CreateCommand())
        {
            wal.CommandText = "PRAGMA journal_mode = WAL;";
            await wal.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = ddl;
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        foreach (var (table, column, definition) in addedColumns)
        {
            command.CommandText = $"SELECT COUNT(*) FROM pragma_table_info('{table}') WHERE name = '{column}'";
            if (Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture) > 0)
                continue;
            command.CommandText = $"ALTER TABLE {table} ADD COLUMN {column} {definition}";
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Appends <c>(@k0,@k1,…)</c> to <paramref name="sql"/> and binds each of <paramref name="keys"/> to its parameter of
    /// <paramref name="command"/>: the key list of a <c>WHERE key IN</c> query.
    /// </summary>
    /// <param name="sql">The statement being built.</param>
    /// <param name="command">The command that will run it.</param>
    /// <param name="keys">The keys, at most a few hundred (SQLite limits the parameters of one statement).</param>
    public static StringBuilder AppendKeyList(StringBuilder sql, SqliteCommand command, IReadOnlyList<string> keys)
    {
        sql.Append('(');
        for (var i = 0; i < keys.Count; i++)
        {
            sql.Append(i > 0 ? ",@k" : "@k").Append(i);
            command.Parameters.AddWithValue("@k" + i, keys[i]);
        }

        return sql.Append(')');
    }

    private sealed class Releaser(SemaphoreSlim semaphore) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
                semaphore.Release();
        }
    }
}
