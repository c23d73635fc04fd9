namespace Akka.WriteBehind.Inflight;

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
/// <c>BatchOperationException.Saturation</c> and <see cref="Outcome.Failed.Saturation"/>.
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

/// <summary>
/// The outcome of one operation of a call group: <see cref="Succeeded"/>, <see cref="Failed"/> (a typed error from the
/// operation's target, or a refusal before it was sent) or <see cref="TimedOut"/> (no answer before the group's deadline).
/// </summary>
public abstract record Outcome
{
    private Outcome()
    {
    }

    /// <summary>Whether the operation succeeded.</summary>
    public bool IsSuccess => this is Succeeded;

    /// <summary>The error code, or <c>null</c> on success (<see cref="ErrorCode.Timeout"/> for <see cref="TimedOut"/>).</summary>
    public abstract ErrorCode? Code { get; }

    /// <summary>The operation succeeded.</summary>
    /// <param name="Result">What its target answered: an <c>ICounterReply</c> (<c>IncrementAccepted</c>, <c>CounterValue</c>,
    /// <c>CounterFlushed</c>) for a counter command, the handler's result for a batch operation.</param>
    public sealed record Succeeded(object? Result) : Outcome
    {
        /// <inheritdoc />
        public override ErrorCode? Code => null;
    }

    /// <summary>The operation did not succeed; its target (or the group, before sending it) said why.</summary>
    /// <param name="Error">Why, as a code to switch on.</param>
    /// <param name="Message">Why, for people.</param>
    public sealed record Failed(ErrorCode Error, string Message) : Outcome
    {
        /// <inheritdoc />
        public override ErrorCode? Code => Error;

        /// <summary>A batch operation refused by its resource's handler (the resource unchanged by it), rather than a failed batch.</summary>
        public bool IsRejection { get; init; }

        /// <summary>With <see cref="ErrorCode.Saturated"/> from a bounded queue: which bound and how full; otherwise <c>null</c>.</summary>
        public QueueSaturated? Saturation { get; init; }
    }

    /// <summary>
    /// No answer before the group's deadline (or the group was cancelled, see <see cref="Cancelled"/>). The operation may still
    /// take effect: its answer is ignored when it comes.
    /// </summary>
    /// <param name="Message">Why, for people.</param>
    /// <param name="Cancelled"><c>true</c> when the caller cancelled the group rather than its deadline passing.</param>
    public sealed record TimedOut(string Message, bool Cancelled = false) : Outcome
    {
        /// <inheritdoc />
        public override ErrorCode? Code => Cancelled ? ErrorCode.Cancelled : ErrorCode.Timeout;
    }
}

/// <summary>The result of a call group, told to the actor given when it was started.</summary>
/// <param name="GroupId">The id the group was started with (to tell several groups apart).</param>
/// <param name="Outcomes">One outcome per operation id of the group, every id present.</param>
/// <typeparam name="TId">The caller's operation id type.</typeparam>
public sealed record CallGroupCompleted<TId>(long GroupId, IReadOnlyDictionary<TId, Outcome> Outcomes) where TId : notnull;

/// <summary>An operation id occurs twice in a call group: the group is not built (nothing is sent).</summary>
public sealed class DuplicateOperationIdException : ArgumentException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="id">The duplicate id.</param>
    public DuplicateOperationIdException(object id)
        : base($"The operation id {id} occurs more than once in the call group.", "id") => Id = id;

    /// <summary>The duplicate id.</summary>
    public object Id { get; }
}
