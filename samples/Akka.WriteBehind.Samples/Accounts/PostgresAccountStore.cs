using System.Data;
using Akka.WriteBehind.Batches;
using Akka.WriteBehind.Sql;
using Npgsql;

namespace Akka.WriteBehind.Samples.Accounts;

/// <summary>
/// The account store on PostgreSQL (Npgsql): the table
/// <c>accounts(key text primary key, balance bigint not null check (balance &gt;= 0), version bigint not null)</c> in the
/// connection's default schema, created on first start under an advisory lock (nodes that start together do not race).
/// A save writes <c>version + 1</c> only over the version it loaded (optimistic concurrency), as <see cref="SqliteAccountStore"/>
/// does; <see cref="SaveManyAsync"/> saves many accounts with one multi-row upsert from arrays in one transaction. Request ids
/// are kept in the table <c>accounts_requests(key, request_id, balance, saved_at)</c>, written in the transaction of their
/// account's save.
/// </summary>
public sealed class PostgresAccountStore : IIdempotentResourceStore<Account>, IAsyncDisposable, IDisposable
{
    /// <summary>
    /// Connections the store opens at most when the connection string sets no <c>Maximum Pool Size</c>. Saves are grouped
    /// per node (<c>save-many</c>), so a few connections carry the loads and the saves.
    /// </summary>
    public const int DefaultMaxPoolSize = 5;

    // created under the advisory lock of PostgresDatabase.CreateTablesAsync (nodes that start together do not race)
    private const string InitializeSql = """
        CREATE TABLE IF NOT EXISTS accounts (
            key TEXT NOT NULL PRIMARY KEY,
            balance BIGINT NOT NULL CHECK (balance >= 0),
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
        """;

    private const string SelectRequestsSql = """
        SELECT key, request_id, balance, saved_at FROM accounts_requests WHERE key = ANY($1) AND saved_at >= $2 ORDER BY saved_at
        """;

    private const string ForgetRequestsSql = "DELETE FROM accounts_requests WHERE saved_at < $1";

    private const string InsertRequestsSql = """
        INSERT INTO accounts_requests (key, request_id, balance, saved_at)
        SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[])
        ON CONFLICT (key, request_id) DO UPDATE SET balance = excluded.balance, saved_at = excluded.saved_at
        """;

    private const string SelectSql = "SELECT balance, version FROM accounts WHERE key = $1";

    private const string SelectManySql = "SELECT key, balance, version FROM accounts WHERE key = ANY($1)";

    // a new row for an account loaded at version 0; an existing row only over the version loaded (excluded.version - 1)
    private const string UpsertSql = """
        INSERT INTO accounts (key, balance, version)
        SELECT a.key, a.balance, a.version FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS a(key, balance, version)
        ON CONFLICT (key) DO UPDATE SET balance = excluded.balance, version = excluded.version
        WHERE accounts.version = excluded.version - 1
        RETURNING key
        """;

    // a lease on the node's one pool for this database, shared with the library's stores on it
    private readonly PostgresDatabase _database;
    private readonly NpgsqlDataSource _dataSource;

    /// <summary>Creates a store over an Npgsql connection string. Nothing connects before the first call.</summary>
    /// <param name="connectionString">For example <c>Host=127.0.0.1;Port=5432;Database=writebehind;Username=app;Password=…</c>.</param>
    /// <param name="defaultMaxPoolSize">Pool size when <paramref name="connectionString"/> sets none. <b>Default</b>: <see cref="DefaultMaxPoolSize"/>.</param>
    /// <exception cref="ArgumentException">Empty, or not an Npgsql connection string.</exception>
    public PostgresAccountStore(string connectionString, int defaultMaxPoolSize = DefaultMaxPoolSize)
    {
        _database = PostgresDatabase.Lease(connectionString, defaultMaxPoolSize);
        _dataSource = _database.DataSource;
    }

    /// <summary>Where the store points, without credentials: <c>host:port/database</c>.</summary>
    public string Description => _database.Description;

    /// <inheritdoc />
    public Task InitializeAsync(CancellationToken cancellationToken = default) =>
        _database.CreateTablesAsync("akka.write-behind:accounts", InitializeSql, cancellationToken);

    /// <inheritdoc />
    public async Task<Account> LoadAsync(string key, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var select = new NpgsqlCommand(SelectSql, connection);
        select.Parameters.Add(new NpgsqlParameter<string> { TypedValue = key });
        await using var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
            ? new Account(reader.GetInt64(0), reader.GetInt64(1))
            : Account.Empty;
    }

    /// <summary>Loads many accounts with one query (<c>key = ANY(@keys)</c>); a key never saved loads as <see cref="Account.Empty"/>.</summary>
    /// <param name="keys">Distinct keys.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>Every account, by key.</returns>
    public async Task<IReadOnlyDictionary<string, Account>> LoadManyAsync(IReadOnlyCollection<string> keys, CancellationToken cancellationToken)
    {
        var loaded = new Dictionary<string, Account>(keys.Count, StringComparer.Ordinal);
        if (keys.Count == 0)
            return loaded;
        foreach (var key in keys)
            loaded[key] = Account.Empty;

        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var select = new NpgsqlCommand(SelectManySql, connection);
        select.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = keys.ToArray() });
        await using var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            loaded[reader.GetString(0)] = new Account(reader.GetInt64(1), reader.GetInt64(2));
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
    /// Saves every account in one transaction (one statement): each row gets the new balance and <c>version + 1</c>, only
    /// where the stored version is the one the account was loaded with (a new row for version 0).
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

        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var select = new NpgsqlCommand(SelectRequestsSql, connection);
        select.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = keys.ToArray() });
        select.Parameters.Add(new NpgsqlParameter<long> { TypedValue = AccountRequests.Millis(since) });
        await using var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            AccountRequests.AddRow(byKey, reader);

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

        // ordinal key order: concurrent groups lock rows in the same order
        var rows = resources.OrderBy(r => r.Key, StringComparer.Ordinal).ToArray();
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using var upsert = new NpgsqlCommand(UpsertSql, connection, transaction);
        upsert.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = rows.Select(r => r.Key).ToArray() });
        upsert.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = rows.Select(r => r.Value.Balance).ToArray() });
        upsert.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = rows.Select(r => r.Value.Version + 1).ToArray() });
        var written = new HashSet<string>(StringComparer.Ordinal);
        await using (var reader = await upsert.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                written.Add(reader.GetString(0));
        }

        if (written.Count != rows.Length)
        {
            var conflicts = rows.Where(e => !written.Contains(e.Key)).Take(10).Select(e => $"[{e.Key}] (loaded at version {e.Value.Version})");
            throw new DBConcurrencyException(
                "accounts were saved by another writer since they were loaded; nothing was saved: " + string.Join(", ", conflicts));
        }

        if (forgetBefore is { } cutoff)
        {
            await using var forget = new NpgsqlCommand(ForgetRequestsSql, connection, transaction);
            forget.Parameters.Add(new NpgsqlParameter<long> { TypedValue = AccountRequests.Millis(cutoff) });
            await forget.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        if (requests.Count > 0)
        {
            await using var insert = new NpgsqlCommand(InsertRequestsSql, connection, transaction);
            insert.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = requests.Select(r => r.Key).ToArray() });
            insert.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = requests.Select(r => r.Value.RequestId).ToArray() });
            insert.Parameters.Add(new NpgsqlParameter<long?[]>
            {
                TypedValue = requests.Select(r => AccountRequests.BalanceOf(r.Value) is long b ? b : (long?)null).ToArray(),
            });
            insert.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = requests.Select(r => AccountRequests.Millis(r.Value.At)).ToArray() });
            await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        // a caller that gave up (max-duration) has been told the batch failed: it must not commit now
        cancellationToken.ThrowIfCancellationRequested();
        await transaction.CommitAsync(CancellationToken.None).ConfigureAwait(false);
        foreach (var (key, account) in rows)
            stored[key] = account with { Version = account.Version + 1 };
        return stored;
    }

    /// <summary>Returns the store's lease on the shared connection pool (the last lease closes it).</summary>
    public ValueTask DisposeAsync() => _database.DisposeAsync();

    /// <summary>Returns the store's lease on the shared connection pool (the last lease closes it).</summary>
    public void Dispose() => _database.Dispose();
}
