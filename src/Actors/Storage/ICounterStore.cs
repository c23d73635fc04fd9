namespace Akka.WriteBehind.Storage;

/// <summary>
/// One write of a counter flush: add <see cref="Delta"/> to the row <see cref="Key"/> unless the row's
/// <c>applied_seq</c> is already at least <see cref="Seq"/>.
/// </summary>
/// <param name="Key">The counter's key.</param>
/// <param name="Delta">The delta to add.</param>
/// <param name="Seq">The key's write sequence number (&gt; 0, increasing per key). A write whose sequence number the row has
/// already applied is skipped, which makes retries of a write with an unknown outcome idempotent.</param>
public sealed record CounterWrite(string Key, long Delta, long Seq);

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
    /// <c>applied_seq &lt; Seq</c>. Either every write of the batch is applied or none is (the call throws).
    /// </summary>
    /// <param name="writes">The writes; at most one per key.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The stored state of every key of the batch after the transaction.</returns>
    Task<IReadOnlyDictionary<string, StoredCounter>> ApplyAsync(IReadOnlyList<CounterWrite> writes, CancellationToken cancellationToken = default);

    /// <summary>Reads the stored state of <paramref name="keys"/>; keys without a row are returned as <see cref="StoredCounter.Empty"/>.</summary>
    /// <param name="keys">The keys to read.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    Task<IReadOnlyDictionary<string, StoredCounter>> ReadAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken = default);
}
