using Akka.WriteBehind.Batches;
using Akka.WriteBehind.Sql;
using Npgsql;

namespace Akka.WriteBehind.Samples.Accounts;

/// <summary>
/// The account store on PostgreSQL (Npgsql): the table
/// <c>accounts(key text primary key, balance bigint not null check (balance &gt;= 0), version bigint not null)</c> in the
/// connection's default schema, created on first start under an advisory lock (nodes that start together do not race).
/// Many keys are loaded with one query (<c>key = ANY(…)</c>) and saved with one upsert from arrays (<c>unnest</c>) in one
/// transaction, rows locked in key order. Request ids
/// are kept in the table <c>accounts_requests(key, request_id, balance, saved_at)</c>, written in the transaction of their
/// account's save.
/// </summary>
public sealed class PostgresAccountStore : AccountStore, IAsyncDisposable, IDisposable
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
        """ + AccountRequests.CreateTableSql;

    private const string SelectRequestsSql = """
        SELECT key, request_id, balance, saved_at FROM accounts_requests WHERE key = ANY($1) AND saved_at >= $2 ORDER BY saved_at
        """;

    private const string ForgetRequestsSql = "DELETE FROM accounts_requests WHERE saved_at < $1";

    private const string InsertRequestsSql = """
        INSERT INTO accounts_requests (key, request_id, balance, saved_at)
        SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[])
        ON CONFLICT (key, request_id) DO UPDATE SET balance = excluded.balance, saved_at = excluded.saved_at
        """;

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
    public override Task InitializeAsync(CancellationToken cancellationToken = default) =>
        _database.CreateTablesAsync("akka.write-behind:accounts", InitializeSql, cancellationToken);

    /// <inheritdoc />
    protected override async Task ReadAccountsAsync(IReadOnlyCollection<string> keys, Dictionary<string, Account> into,
        CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var select = new NpgsqlCommand(SelectManySql, connection);
        select.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = keys.ToArray() });
        await using var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            into[reader.GetString(0)] = new Account(reader.GetInt64(1), reader.GetInt64(2));
    }

    /// <inheritdoc />
    protected override async Task ReadRequestsAsync(IReadOnlyCollection<string> keys, DateTime since,
        Dictionary<string, IReadOnlyList<RememberedRequest>> into, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var select = new NpgsqlCommand(SelectRequestsSql, connection);
        select.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = keys.ToArray() });
        select.Parameters.Add(new NpgsqlParameter<long> { TypedValue = AccountRequests.Millis(since) });
        await using var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            AccountRequests.AddRow(into, reader);
    }

    /// <inheritdoc />
    protected override async Task WriteAsync(KeyValuePair<string, Account>[] rows, IReadOnlyList<KeyValuePair<string, RememberedRequest>> requests,
        DateTime? forgetBefore, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (var upsert = new NpgsqlCommand(UpsertSql, connection, transaction))
        {
            upsert.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = rows.Select(r => r.Key).ToArray() });
            upsert.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = rows.Select(r => r.Value.Balance).ToArray() });
            upsert.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = rows.Select(r => r.Value.Version + 1).ToArray() });
            await UpsertAllAsync(upsert, rows, cancellationToken).ConfigureAwait(false);
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

        await CommitUnlessCancelledAsync(transaction, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Returns the store's lease on the shared connection pool (the last lease closes it).</summary>
    public ValueTask DisposeAsync() => _database.DisposeAsync();

    /// <summary>Returns the store's lease on the shared connection pool (the last lease closes it).</summary>
    public void Dispose() => _database.Dispose();
}
