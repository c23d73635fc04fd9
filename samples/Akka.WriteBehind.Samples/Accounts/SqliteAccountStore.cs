using Akka.WriteBehind.Batches;
using Akka.WriteBehind.Sql;
using Microsoft.Data.Sqlite;

namespace Akka.WriteBehind.Samples.Accounts;

/// <summary>
/// The account store: the table <c>accounts(key text primary key, balance bigint not null, version bigint not null)</c> in a
/// SQLite file in WAL mode (by default the counters' <c>writebehind.db</c>, see <see cref="AccountStores.SqliteAccountStoreFromConfig"/>).
/// Many keys are loaded with one query and saved with one upsert in one transaction, their rows passed as one JSON
/// parameter (<c>json_each</c>). Request ids are kept in the table <c>accounts_requests(key, request_id, balance, saved_at)</c>,
/// written in the transaction of their account's save.
/// </summary>
public sealed class SqliteAccountStore : AccountStore
{
    // a new row for an account loaded at version 0; an existing row only over the version loaded (excluded.version - 1)
    private const string UpsertSql = """
        INSERT INTO accounts (key, balance, version)
        SELECT r.value ->> 0, r.value ->> 1, r.value ->> 2 FROM json_each(@rows) AS r WHERE true
        ON CONFLICT (key) DO UPDATE SET balance = excluded.balance, version = excluded.version
        WHERE accounts.version = excluded.version - 1
        RETURNING key
        """;

    private const string InsertRequestsSql = """
        INSERT INTO accounts_requests (key, request_id, balance, saved_at)
        SELECT r.value ->> 0, r.value ->> 1, r.value ->> 2, r.value ->> 3 FROM json_each(@rows) AS r WHERE true
        ON CONFLICT (key, request_id) DO UPDATE SET balance = excluded.balance, saved_at = excluded.saved_at
        """;

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
    public override Task InitializeAsync(CancellationToken cancellationToken = default) =>
        // typeof check: SQLite turns an integer overflow into a REAL; refuse that instead of storing a rounded value.
        _database.CreateTablesAsync("""
            CREATE TABLE IF NOT EXISTS accounts (
                key TEXT NOT NULL PRIMARY KEY,
                balance BIGINT NOT NULL CHECK (typeof(balance) = 'integer' AND balance >= 0),
                version BIGINT NOT NULL
            );
            """ + AccountRequests.CreateTableSql, cancellationToken);

    /// <inheritdoc />
    protected override async Task ReadAccountsAsync(IReadOnlyCollection<string> keys, Dictionary<string, Account> into,
        CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var select = connection.CreateCommand();
        select.CommandText = "SELECT key, balance, version FROM accounts WHERE key IN (SELECT value FROM json_each(@keys))";
        select.Parameters.AddWithValue("@keys", KeyList(keys));
        await using var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            into[reader.GetString(0)] = new Account(reader.GetInt64(1), reader.GetInt64(2));
    }

    /// <inheritdoc />
    protected override async Task ReadRequestsAsync(IReadOnlyCollection<string> keys, DateTime since,
        Dictionary<string, IReadOnlyList<RememberedRequest>> into, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var select = connection.CreateCommand();
        select.CommandText = """
            SELECT key, request_id, balance, saved_at FROM accounts_requests
            WHERE saved_at >= @since AND key IN (SELECT value FROM json_each(@keys)) ORDER BY saved_at
            """;
        select.Parameters.AddWithValue("@since", AccountRequests.Millis(since));
        select.Parameters.AddWithValue("@keys", KeyList(keys));
        await using var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            AccountRequests.AddRow(into, reader);
    }

    /// <inheritdoc />
    protected override async Task WriteAsync(KeyValuePair<string, Account>[] rows, IReadOnlyList<KeyValuePair<string, RememberedRequest>> requests,
        DateTime? forgetBefore, CancellationToken cancellationToken)
    {
        using var writing = await _database.LockWritesAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = await _database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);

        // every row in one JSON parameter: named parameters are bound by a linear search of the statement's names, which
        // makes a many-row VALUES statement cost the square of its rows
        await using (var upsert = connection.CreateCommand())
        {
            upsert.Transaction = transaction;
            upsert.CommandText = UpsertSql;
            upsert.Parameters.AddWithValue("@rows", SqliteDatabase.JsonRows(rows, static (json, row) =>
            {
                json.WriteStringValue(row.Key);
                json.WriteNumberValue(row.Value.Balance);
                json.WriteNumberValue(row.Value.Version + 1);
            }));
            await UpsertAllAsync(upsert, rows, cancellationToken).ConfigureAwait(false);
        }

        if (forgetBefore is { } cutoff)
        {
            await using var forget = connection.CreateCommand();
            forget.Transaction = transaction;
            forget.CommandText = "DELETE FROM accounts_requests WHERE saved_at < @cutoff";
            forget.Parameters.AddWithValue("@cutoff", AccountRequests.Millis(cutoff));
            await forget.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        if (requests.Count > 0)
        {
            await using var insert = connection.CreateCommand();
            insert.Transaction = transaction;
            insert.CommandText = InsertRequestsSql;
            insert.Parameters.AddWithValue("@rows", SqliteDatabase.JsonRows(requests, static (json, row) =>
            {
                json.WriteStringValue(row.Key);
                json.WriteStringValue(row.Value.RequestId);
                if (AccountRequests.BalanceOf(row.Value) is long balance)
                    json.WriteNumberValue(balance);
                else
                    json.WriteNullValue();
                json.WriteNumberValue(AccountRequests.Millis(row.Value.At));
            }));
            await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await CommitUnlessCancelledAsync(transaction, cancellationToken).ConfigureAwait(false);
    }

    private static string KeyList(IReadOnlyCollection<string> keys) =>
        SqliteDatabase.JsonRows(keys, static (json, key) => json.WriteStringValue(key), nested: false);
}
