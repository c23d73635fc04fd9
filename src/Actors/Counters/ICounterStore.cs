namespace Akka.WriteBehind.Counters;

/// <summary>
/// One write of a counter flush: add <see cref="Delta"/> to the row <see cref="Key"/> unless the row's
/// <c>applied_seq</c> is already at least <see cref="Seq"/>.
/// </summary>
/// <param name="Key">The counter's key.</param>
/// <param name="Delta">The delta to add.</param>
/// <param name="Seq">The key's write sequence number (&gt; 0, increasing per key). A write whose sequence number the row has
/// already applied is skipped, which makes retries of a write with an unknown outcome idempotent.</param>
public sealed record CounterWrite(string Key, long Delta, long Seq)
{
    /// <summary>
    /// The increments of <see cref="Delta"/> that callers sent with a request id, each with its own delta (included in
    /// <see cref="Delta"/>), or <c>null</c>. A store records each id with the row, in the same transaction, until it expires;
    /// the delta of an id already recorded for the key (and not expired) is a repeat and is not applied again.
    /// </summary>
    public IReadOnlyList<CounterRequest>? Requests { get; init; }
}

/// <summary>An increment a caller sent with a request id, as part of a <see cref="CounterWrite"/>.</summary>
/// <param name="Id">The request id (<see cref="RequestIds"/>).</param>
/// <param name="Delta">The increment's delta.</param>
/// <param name="ExpiresAt">Until when the id is remembered: a repeat after this is applied again.</param>
public sealed record CounterRequest(string Id, long Delta, DateTimeOffset ExpiresAt);

/// <summary>A counter as stored.</summary>
/// <param name="Value">The stored value (0 for a key never written).</param>
/// <param name="AppliedSeq">The sequence number of the last write applied to the row (0 for a key never written).</param>
public readonly record struct StoredCounter(long Value, long AppliedSeq)
{
    /// <summary>The value of a key that has no row.</summary>
    public static readonly StoredCounter Empty = new(0, 0);
}

/// <summary>
/// Where counters are written behind to (the Go <c>writebehind</c> library's <c>Incrementer</c>). Implementations must be safe
/// for concurrent calls: the node's store writer runs up to <c>store-writer.parallelism</c> batches at once (never the same key
/// in two of them).
/// </summary>
public interface ICounterStore
{
    /// <summary>Creates the schema if it does not exist. Idempotent; called once before the first read or write.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    Task InitializeAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Applies a batch of writes in one transaction: for every write, <c>value += Delta</c> and <c>applied_seq = Seq</c>, only where
    /// <c>applied_seq &lt; Seq</c>. Either every write of the batch is applied or none is (the call throws). A write that applies
    /// records its <see cref="CounterWrite.Requests"/> in the same transaction and leaves out the delta of every request id the
    /// key has already recorded (not expired): a retried increment is counted once. <see cref="CounterRequests"/> does the
    /// bookkeeping; a store that cannot record ids applies the whole delta, and repeats are then caught only in memory.
    /// </summary>
    /// <param name="writes">The writes; at most one per key.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The stored state of every key of the batch after the transaction.</returns>
    Task<IReadOnlyDictionary<string, StoredCounter>> ApplyAsync(IReadOnlyList<CounterWrite> writes, CancellationToken cancellationToken = default);

    /// <summary>Reads the stored state of <paramref name="keys"/>; keys without a row are returned as <see cref="StoredCounter.Empty"/>.</summary>
    /// <param name="keys">The keys to read.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    Task<IReadOnlyDictionary<string, StoredCounter>> ReadAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken = default);

    /// <summary>Forgets the request ids that expired before <paramref name="now"/>; the store writer calls it periodically.</summary>
    /// <param name="now">The current time.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>How many ids were forgotten.</returns>
    Task<int> DeleteExpiredRequestsAsync(DateTimeOffset now, CancellationToken cancellationToken = default) => Task.FromResult(0);
}

/// <summary>
/// A counter store whose rows live in one table of a shared database, so that each counter set can have its own table
/// (two sets on one table would skip each other's writes through the <c>applied_seq</c> guard).
/// <see cref="Counters.WriteBehindCounters.StartAsync"/> moves such a store to the set's <c>table-name</c>.
/// </summary>
public interface ICounterTableStore : ICounterStore
{
    /// <summary>The table the rows live in. <b>Default</b>: <c>counters</c>.</summary>
    string TableName { get; }

    /// <summary>The same database with the rows in <paramref name="tableName"/> (created by its <see cref="ICounterStore.InitializeAsync"/>).</summary>
    /// <param name="tableName">An SQL identifier: a lowercase letter or underscore, then lowercase letters, digits or underscores (at most 63).</param>
    /// <exception cref="ArgumentException">Not such an identifier.</exception>
    ICounterTableStore WithTable(string tableName);
}

/// <summary>The table names of counter sets.</summary>
public static class CounterTables
{
    /// <summary>The table of the default counter set (<c>type-name = write-behind-counters</c>).</summary>
    public const string DefaultTableName = "counters";

    /// <summary>The default counter set's type name, whose rows stay in <see cref="DefaultTableName"/>.</summary>
    public const string DefaultTypeName = "write-behind-counters";

    /// <summary>Whether <paramref name="name"/> is a table name the stores accept.</summary>
    /// <param name="name">The candidate.</param>
    public static bool IsValid(string? name) => Sql.SqlTableNames.IsValid(name);

    /// <summary>
    /// The table of the counter set <paramref name="typeName"/>: <see cref="DefaultTableName"/> for the default set, else
    /// <c>counters_</c> followed by the type name in lowercase with every character other than a letter or digit turned into
    /// <c>_</c> (cut to 63 characters).
    /// </summary>
    /// <param name="typeName">The set's shard region type name.</param>
    public static string DerivedFrom(string typeName)
    {
        return typeName == DefaultTypeName ? DefaultTableName : Sql.SqlTableNames.Derive(DefaultTableName, typeName);
    }

    internal static string Validate(string tableName, string parameterName) =>
        Sql.SqlTableNames.Validate(tableName, "counter", parameterName);
}
