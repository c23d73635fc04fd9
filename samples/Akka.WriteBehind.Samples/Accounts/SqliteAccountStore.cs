using System.Data;
using System.Text;
using Akka.WriteBehind.Batches;
using Akka.WriteBehind.Sql;
using Microsoft.Data.Sqlite;

namespace Akka.WriteBehind.Samples.Accounts;

/// <summary>
/// The account store: the table <c>accounts(key text primary key, balance bigint not null, version bigint not null)</c> in a
/// SQLite file in WAL mode (by default the counters' <c>writebehind.db</c>, see <see cref="AccountStores.SqliteAccountStoreFromConfig"/>).
/// A save writes <c>version + 1</c> only over the version it loaded (optimistic concurrency), so a second writer of a key fails
/// instead of overwriting; <see cref="SaveManyAsync"/> saves many accounts with multi-row upserts in one transaction and
/// <see cref="LoadManyAsync"/> loads many with one query. Request ids are kept in the table
/// <c>accounts_requests(key, request_id, balance, saved_at)</c>, written in the transaction of their account's save.
/// </summary>
public sealed class SqliteAccountStore : IIdempotentResourceStore<Account>
{
    /// <summary>Rows per upsert statement (3 parameters each, well under SQLite's parameter limit).</summary>
    // the file's connection string and its write lock, shared with the library's stores on the same file
    private readonly SqliteDatabase _database;

    /// <summary>Creates a store over a Microsoft.Data.Sqlite connection string.</summary>
    /// <param name="connectionString">For example <c>Data Source=./data/writebehind.db</c>.</param>
    public SqliteAccountStore(string connectionString)
        => _database = new SqliteDatabase(connectionString);

    /// <summary>The database file.</summary>
    public string DataSource => _database.DataSource;

    /// <summary>A store over the file <paramref name="fileName"/> in <paramref name="dataDir"/> (created when missing).</summary>
    /// <param name="dataDir">Directory of the database file.</param>
    /// <param name="fileName">File name. <b>Default</b>: <c>writebehind.db</c>.</param>
    public static SqliteAccountStore ForDirectory(string dataDir, string fileName = "writebehind.db") =>
        new(SqliteStores.FileConnectionString(dataDir, fileName));

    /// <inheritdoc />
    public Task InitializeAsync(CancellationToken cancellationToken = default) =>
        // typeof check: SQLite turns an integer overflow into a REAL; refuse that instead of storing a rounded value.
        _database.CreateTablesAsync("""
            CREATE TABLE IF NOT EXISTS accounts (
                key TEXT NOT NULL PRIMARY KEY,
                balance BIGINT NOT NULL CHECK (typeof(balance) = 'integer' AND balance >= 0),
                version BIGINT NOT NULL
            );
            CREATE TABLE IF NOT EXISTS accounts_requests (
                key TEXT NOT NULL,
                request_id TEXT NOT NULL,
                balance BIGINT,
                saved_at BIGINT NOT NULL,
                PRIMARY KEY (key, request_id)
            );
            CREATE INDEX IF NOT EXISTS accounts_requests_saved_at ON accounts_requests (saved_at);
            """, cancellationToken);

    /// <inheritdoc />
    public async Task<Account> LoadAsync(string key, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var select = connection.CreateCommand();
        select.CommandText = "SELECT balance, version FROM accounts WHERE key = @k";
        select.Parameters.AddWithValue("@k", key);
        await using var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
            ? new Account(reader.GetInt64(0), reader.GetInt64(1))
            : Account.Empty;
    }

    /// <summary>Loads many accounts with one query per 500 keys on one connection; a key never saved loads as <see cref="Account.Empty"/>.</summary>
    /// <param name="keys">Distinct keys.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>Every account, by key.</returns>
    public async Task<IReadOnlyDictionary<string, Account>> LoadManyAsync(IReadOnlyCollection<string> keys, CancellationToken cancellationToken)
    {
        var loaded = new Dictionary<string, Account>(keys.Count, StringComparer.Ordinal);
        if (keys.Count == 0)
            return loaded;

        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        foreach (var chunk in keys.Chunk(SqliteDatabase.RowsPerStatement))
        {
            await using var select = connection.CreateCommand();
            var sql = new StringBuilder("SELECT key, balance, version FROM accounts WHERE key IN ");
            select.CommandText = SqliteDatabase.AppendKeyList(sql, select, chunk).ToString();
            foreach (var key in chunk)
                loaded[key] = Account.Empty;
            await using var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                loaded[reader.GetString(0)] = new Account(reader.GetInt64(1), reader.GetInt64(2));
        }

        return loaded;
    }

    /// <inheritdoc />
    public async Task<Account> SaveAsync(string key, Account resource, CancellationToken cancellationToken)
    {
        var stored = await SaveManyAsync(new Dictionary<string, Account>(StringComparer.Ordinal) { [key] = resource }, cancellationToken)
            .ConfigureAwait(false);
        return stored[key];
    }

    /// <summary>
    /// Saves every account in one transaction: each row gets the new balance and <c>version + 1</c>, only where the stored
    /// version is the one the account was loaded with (a new row for version 0).
    /// </summary>
    /// <param name="resources">New state per key.</param>
    /// <param name="cancellationToken">Checked before the commit: once cancelled, nothing is committed.</param>
    /// <returns>Every account as stored (its version incremented).</returns>
    /// <exception cref="DBConcurrencyException">A row's version is not the one loaded: another writer saved the key. Nothing is saved.</exception>
    public Task<IReadOnlyDictionary<string, Account>> SaveManyAsync(IReadOnlyDictionary<string, Account> resources, CancellationToken cancellationToken) =>
        SaveAsync(resources, [], null, cancellationToken);

    /// <inheritdoc />
    public async Task<IReadOnlyDictionary<string, IReadOnlyList<RememberedRequest>>> LoadRequestsAsync(
        IReadOnlyCollection<string> keys, DateTime since, CancellationToken cancellationToken)
    {
        var byKey = new Dictionary<string, IReadOnlyList<RememberedRequest>>(StringComparer.Ordinal);
        if (keys.Count == 0)
            return byKey;

        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        foreach (var chunk in keys.Chunk(SqliteDatabase.RowsPerStatement))
        {
            await using var select = connection.CreateCommand();
            var sql = new StringBuilder("SELECT key, request_id, balance, saved_at FROM accounts_requests WHERE saved_at >= @since AND key IN ");
            select.Parameters.AddWithValue("@since", AccountRequests.Millis(since));
            select.CommandText = SqliteDatabase.AppendKeyList(sql, select, chunk).Append(" ORDER BY saved_at").ToString();
            await using var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                AccountRequests.AddRow(byKey, reader);
        }

        return byKey;
    }

    /// <inheritdoc />
    public Task<IReadOnlyDictionary<string, Account>> SaveManyWithRequestsAsync(IReadOnlyDictionary<string, Account> resources,
        IReadOnlyList<KeyValuePair<string, RememberedRequest>> requests, DateTime forgetBefore, CancellationToken cancellationToken) =>
        SaveAsync(resources, requests, forgetBefore, cancellationToken);

    private async Task<IReadOnlyDictionary<string, Account>> SaveAsync(IReadOnlyDictionary<string, Account> resources,
        IReadOnlyList<KeyValuePair<string, RememberedRequest>> requests, DateTime? forgetBefore, CancellationToken cancellationToken)
    {
        var stored = new Dictionary<string, Account>(resources.Count, StringComparer.Ordinal);
        if (resources.Count == 0)
            return stored;

        using var writing = await _database.LockWritesAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        foreach (var chunk in resources.Chunk(SqliteDatabase.RowsPerStatement))
        {
            await using var upsert = connection.CreateCommand();
            upsert.Transaction = transaction;
            var sql = new StringBuilder("INSERT INTO accounts (key, balance, version) VALUES ");
            for (var i = 0; i < chunk.Length; i++)
            {
                var (key, account) = chunk[i];
                sql.Append(i > 0 ? "," : "").Append("(@k").Append(i).Append(",@b").Append(i).Append(",@v").Append(i).Append(')');
                upsert.Parameters.AddWithValue("@k" + i, key);
                upsert.Parameters.AddWithValue("@b" + i, account.Balance);
                upsert.Parameters.AddWithValue("@v" + i, account.Version + 1);
                stored[key] = account with { Version = account.Version + 1 };
            }

            sql.Append("""
                 ON CONFLICT (key) DO UPDATE SET balance = excluded.balance, version = excluded.version
                 WHERE accounts.version = excluded.version - 1
                 RETURNING key
                """);
            upsert.CommandText = sql.ToString();
            var written = new HashSet<string>(StringComparer.Ordinal);
            await using (var reader = await upsert.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    written.Add(reader.GetString(0));
            }

            if (written.Count != chunk.Length)
            {
                var conflicts = chunk.Where(e => !written.Contains(e.Key)).Take(10).Select(e => $"[{e.Key}] (loaded at version {e.Value.Version})");
                throw new DBConcurrencyException(
                    "accounts were saved by another writer since they were loaded; nothing was saved: " + string.Join(", ", conflicts));
            }
        }

        await WriteRequestsAsync(connection, transaction, requests, forgetBefore, cancellationToken).ConfigureAwait(false);

        // a caller that gave up (max-duration) has been told the batch failed: it must not commit now
        cancellationToken.ThrowIfCancellationRequested();
        await transaction.CommitAsync(CancellationToken.None).ConfigureAwait(false);
        return stored;
    }

    private static async Task WriteRequestsAsync(SqliteConnection connection, SqliteTransaction transaction,
        IReadOnlyList<KeyValuePair<string, RememberedRequest>> requests, DateTime? forgetBefore, CancellationToken cancellationToken)
    {
        if (forgetBefore is { } cutoff)
        {
            await using var forget = connection.CreateCommand();
            forget.Transaction = transaction;
            forget.CommandText = "DELETE FROM accounts_requests WHERE saved_at < @cutoff";
            forget.Parameters.AddWithValue("@cutoff", AccountRequests.Millis(cutoff));
            await forget.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        // 4 parameters a row: 200 rows stay well under SQLite's parameter limit
        foreach (var chunk in requests.Chunk(200))
        {
            await using var insert = connection.CreateCommand();
            insert.Transaction = transaction;
            var sql = new StringBuilder("INSERT INTO accounts_requests (key, request_id, balance, saved_at) VALUES ");
            for (var i = 0; i < chunk.Length; i++)
            {
                var (key, request) = chunk[i];
                sql.Append(i > 0 ? "," : "").Append("(@k").Append(i).Append(",@r").Append(i).Append(",@b").Append(i).Append(",@t").Append(i).Append(')');
                insert.Parameters.AddWithValue("@k" + i, key);
                insert.Parameters.AddWithValue("@r" + i, request.RequestId);
                insert.Parameters.AddWithValue("@b" + i, AccountRequests.BalanceOf(request));
                insert.Parameters.AddWithValue("@t" + i, AccountRequests.Millis(request.At));
            }

            insert.CommandText = sql.Append(" ON CONFLICT (key, request_id) DO UPDATE SET balance = excluded.balance, saved_at = excluded.saved_at")
                .ToString();
            await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
