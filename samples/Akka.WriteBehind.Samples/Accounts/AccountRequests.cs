using Akka.WriteBehind.Batches;

namespace Akka.WriteBehind.Samples.Accounts;

/// <summary>
/// How the account stores keep request ids: the table <c>accounts_requests(key, request_id, balance, saved_at)</c>, one row per
/// remembered request, written in the transaction that saves its account. The result of every account operation is an
/// <see cref="AccountBalance"/>, so a row keeps only the balance (no type names); <c>saved_at</c> is in Unix milliseconds (UTC).
/// </summary>
internal static class AccountRequests
{
    public const string Table = "accounts_requests";

    /// <summary>The table's DDL, the same in SQLite and PostgreSQL.</summary>
    public const string CreateTableSql = """
        CREATE TABLE IF NOT EXISTS accounts_requests (
            key TEXT NOT NULL,
            request_id TEXT NOT NULL,
            balance BIGINT,
            saved_at BIGINT NOT NULL,
            PRIMARY KEY (key, request_id)
        );
        CREATE INDEX IF NOT EXISTS accounts_requests_saved_at ON accounts_requests (saved_at);
        """;

    /// <summary>The balance column of a request's result.</summary>
    public static object BalanceOf(RememberedRequest request) => request.Result switch
    {
        AccountBalance balance => balance.Balance,
        null => DBNull.Value,
        var other => throw new ArgumentException(
            $"an account request's result is an {nameof(AccountBalance)}, not {other.GetType().Name} (request [{request.RequestId}])"),
    };

    /// <summary>Adds the row under <paramref name="reader"/> (<c>key, request_id, balance, saved_at</c>) to its key's list.</summary>
    public static void AddRow(Dictionary<string, IReadOnlyList<RememberedRequest>> byKey, System.Data.Common.DbDataReader reader)
    {
        var key = reader.GetString(0);
        var balance = reader.IsDBNull(2) ? (long?)null : reader.GetInt64(2);
        var request = new RememberedRequest(reader.GetString(1), balance is { } b ? new AccountBalance(b) : null,
            DateTime.UnixEpoch.AddMilliseconds(reader.GetInt64(3)));
        if (!byKey.TryGetValue(key, out var list))
            byKey[key] = list = new List<RememberedRequest>();
        ((List<RememberedRequest>)list).Add(request);
    }

    public static long Millis(DateTime utc) => (long)(utc - DateTime.UnixEpoch).TotalMilliseconds;
}
