namespace Akka.WriteBehind.Queues;

/// <summary>Which bound of a queue refused an operation (see <see cref="QueueSaturated"/>).</summary>
public enum QueueLimit
{
    /// <summary>
    /// The key already has <c>max-pending</c> operations queued (the width of one key's queue): the counters' ingest stage
    /// (<c>akka.write-behind.counters.ingest.max-pending</c>) or a batch entity (<c>akka.write-behind.batches.max-pending</c>).
    /// </summary>
    Width,

    /// <summary>
    /// The node already has <c>max-active-keys</c> keys with queued operations (the depth of the node's queue) and the key is
    /// not one of them: <c>akka.write-behind.counters.ingest.max-active-keys</c> or <c>akka.write-behind.batches.max-active-keys</c>.
    /// </summary>
    Depth,

    /// <summary>The counters' ingest stage already queues <c>ingest.buffer-size</c> commands over all keys.</summary>
    Total,
}

/// <summary>
/// Why a queue refused an operation at once (always with <see cref="ErrorCode.Saturated"/>, HTTP 429): which bound was
/// reached and how full the queue is. Carried by <c>CounterRejected.Saturation</c>, <c>OperationFailed.Saturation</c>,
/// <c>BatchOperationException.Saturation</c> and <c>Outcome.Failed.Saturation</c>.
/// </summary>
/// <param name="Queue">The queue: the counter set's or the batch resource type's name.</param>
/// <param name="Key">The key of the refused operation.</param>
/// <param name="Limit">The bound that was reached.</param>
/// <param name="Size">The current size the bound counts: operations queued for the key (<see cref="QueueLimit.Width"/>), keys
/// with queued operations on the node (<see cref="QueueLimit.Depth"/>), or commands queued on the node (<see cref="QueueLimit.Total"/>).</param>
/// <param name="Max">The bound.</param>
public sealed record QueueSaturated(string Queue, string Key, QueueLimit Limit, int Size, int Max)
{
    /// <summary>A sentence for people, e.g. for <c>CounterRejected.Message</c>.</summary>
    public string Describe() => Limit switch
    {
        QueueLimit.Width => $"[{Key}] already has {Size} operations queued in {Queue} (max-pending {Max})",
        QueueLimit.Depth => $"{Queue} on this node already has {Size} keys with queued operations (max-active-keys {Max})",
        _ => $"{Queue} on this node already queues {Size} commands (buffer-size {Max})",
    };
}
