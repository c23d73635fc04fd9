namespace Akka.WriteBehind.Batches;

/// <summary>
/// An operation on a resource, run in a batch by the resource's <see cref="OperationHandler{TResource}"/>. Operations are
/// messages, not delegates: they cross nodes, so they must be immutable and serializable (positional records).
/// </summary>
public interface IBatchOperation
{
}

/// <summary>An operation whose successful result is a <typeparamref name="TResult"/>.</summary>
/// <typeparam name="TResult">The result the handler returns for it (immutable and serializable).</typeparam>
public interface IBatchOperation<TResult> : IBatchOperation
{
}

/// <summary>A command for one batch entity. Send it to the shard region of the resource type (<see cref="BatchRegion{TResource}"/>).</summary>
public interface IBatchCommand : IWithKey
{
}

/// <summary>
/// Runs <paramref name="Operation"/> on the resource <paramref name="Key"/> in the key's current or next batch. The reply,
/// sent once the batch is saved, is one <see cref="IOperationReply"/> with the same <paramref name="OperationId"/>:
/// <see cref="OperationSucceeded"/>, <see cref="OperationRejected"/> (the handler refused it) or <see cref="OperationFailed"/>
/// (the batch failed, or the operation was not run). Most callers use <see cref="BatchProcessor{TResource}.RunAsync{TResult}(string, IBatchOperation{TResult}, CancellationToken)"/>.
/// </summary>
/// <param name="Key">The resource's key.</param>
/// <param name="OperationId">Identifies the operation for <see cref="CancelOperation"/> and in the reply.</param>
/// <param name="Operation">The operation.</param>
/// <param name="Deadline">Absolute UTC time after which the caller no longer wants the operation run: if its turn has not come
/// by then it is answered <see cref="ErrorCode.Cancelled"/> without being run. A deadline crosses nodes where a
/// <see cref="CancellationToken"/> cannot; nodes' clocks are assumed to agree to well within the deadlines used.</param>
/// <param name="RequestId">Optional: the caller's request id (<see cref="RequestIds"/>). A repeat of an id of this key within the
/// type's <c>idempotency.window</c> is not applied again: it is answered with the first answer (once that is known).</param>
public sealed record RunOperation(string Key, Guid OperationId, IBatchOperation Operation, DateTime Deadline, string? RequestId = null)
    : IBatchCommand
{
    /// <summary>
    /// When the operation was called (UTC): <c>min-duration</c> of the batch it opens counts from the call, not from the
    /// operation's arrival at its entity, so its wait on the way is part of it (at most <c>min-duration</c> of it). Like
    /// <see cref="Deadline"/> it assumes the nodes' clocks agree to well within the durations used; a skew only moves
    /// when a batch closes. <b>Default</b>: unknown (<c>default(DateTime)</c>): it counts from the arrival.
    /// <see cref="BatchProcessor{TResource}.RunAsync{TResult}(string, IBatchOperation{TResult}, CancellationToken)"/> sets it.
    /// </summary>
    public DateTime CalledAt { get; init; }

    // never serialized (a private field no serializer writes): a copy that crossed nodes, or went through serialize-messages,
    // has none, and its entity answers the sender by message
    [NonSerialized]
    private BatchCall? _localCall;

    /// <summary>
    /// INTERNAL API: the call of this node's grouping stage that sent the operation, set once before it is sent. An entity
    /// that gets the operation in the same process answers the call directly, without a reply message and the grouping
    /// stage's hop.
    /// </summary>
    internal BatchCall? LocalCall
    {
        get => _localCall;
        set => _localCall = value;
    }

    /// <summary>Whether <paramref name="other"/> is the same operation: every property equal (how it travels does not count).</summary>
    /// <param name="other">The operation to compare with.</param>
    public bool Equals(RunOperation? other) =>
        other is not null && Key == other.Key && OperationId == other.OperationId && Equals(Operation, other.Operation)
        && Deadline == other.Deadline && RequestId == other.RequestId && CalledAt == other.CalledAt;

    /// <summary>A hash of the properties <see cref="Equals(RunOperation?)"/> compares.</summary>
    public override int GetHashCode() => HashCode.Combine(Key, OperationId, Operation, Deadline, RequestId, CalledAt);
}

/// <summary>
/// Several operations on the resource <paramref name="Key"/>, in arrival order: the entity takes them as if each had come
/// as its own <see cref="RunOperation"/>, one after the other, and answers each one on its own. The node-local grouping stage
/// of <see cref="BatchProcessor{TResource}"/> sends the operations that wait for one key as one message.
/// </summary>
/// <param name="Key">The resource's key; every operation's <see cref="RunOperation.Key"/> is this key.</param>
/// <param name="Operations">The operations, oldest first.</param>
public sealed record RunOperations(string Key, IReadOnlyList<RunOperation> Operations) : IBatchCommand
{
    /// <summary>
    /// <c>true</c>: the answers a batch gives these operations when it is saved or fails come as one
    /// <see cref="OperationReplies"/> per batch and sender instead of one <see cref="IOperationReply"/> each; any other answer
    /// (cancelled, saturated, a remembered request, refused while stopping) comes on its own, so the sender takes both.
    /// <b>Default</b>: <c>false</c>.
    /// </summary>
    public bool GroupReplies { get; init; }
}

/// <summary>
/// The answers of one batch to operations sent in <see cref="RunOperations"/> with <see cref="RunOperations.GroupReplies"/>,
/// in the order they ran: one message per batch and sender instead of one per operation.
/// </summary>
/// <param name="Key">The resource's key.</param>
/// <param name="Replies">One answer per operation.</param>
public sealed record OperationReplies(string Key, IReadOnlyList<IOperationReply> Replies) : IWithKey;

/// <summary>
/// The caller of the operation <paramref name="OperationId"/> gave up. If the operation has not run yet it never will, and its
/// caller is answered <see cref="OperationFailed"/> with <see cref="ErrorCode.Cancelled"/>; if it has run, this is ignored and the
/// caller gets the batch's outcome. No reply goes to the sender of this message.
/// </summary>
/// <param name="Key">The resource's key.</param>
/// <param name="OperationId">The operation's id from <see cref="RunOperation"/>.</param>
public sealed record CancelOperation(string Key, Guid OperationId) : IBatchCommand;

/// <summary>
/// The answer to a <see cref="RunOperation"/>: <see cref="OperationSucceeded"/>, <see cref="OperationRejected"/> or
/// <see cref="OperationFailed"/>.
/// </summary>
public interface IOperationReply : IWithKey
{
    /// <summary>The operation's id from <see cref="RunOperation"/>.</summary>
    Guid OperationId { get; }
}

/// <summary>The operation ran and its batch was saved (or needed no save).</summary>
/// <param name="Key">The resource's key.</param>
/// <param name="OperationId">The operation's id.</param>
/// <param name="Result">What the handler returned for it.</param>
public sealed record OperationSucceeded(string Key, Guid OperationId, object? Result) : IOperationReply;

/// <summary>
/// The handler refused the operation; the resource was left unchanged by it, and the rest of its batch was saved.
/// </summary>
/// <param name="Key">The resource's key.</param>
/// <param name="OperationId">The operation's id.</param>
/// <param name="Code">The handler's reason as a code: <see cref="ErrorCode.Rejected"/> unless the handler chose another
/// (<see cref="ErrorCode.InvalidArgument"/>, <see cref="ErrorCode.Overflow"/>, ...).</param>
/// <param name="Message">Why, for people.</param>
public sealed record OperationRejected(string Key, Guid OperationId, ErrorCode Code, string Message) : IOperationReply;

/// <summary>
/// The operation's outcome is not applied: its batch failed (<see cref="ErrorCode.StoreFailure"/> when the load or save failed,
/// <see cref="ErrorCode.Timeout"/> when the batch passed <c>max-duration</c>; nothing of the batch is kept), or it was never
/// run (<see cref="ErrorCode.Cancelled"/>, <see cref="ErrorCode.Saturated"/>, <see cref="ErrorCode.ShuttingDown"/>,
/// <see cref="ErrorCode.InvalidKey"/>).
/// </summary>
/// <param name="Key">The resource's key.</param>
/// <param name="OperationId">The operation's id.</param>
/// <param name="Code">Why, as a code to switch on.</param>
/// <param name="Message">Why, for people.</param>
public sealed record OperationFailed(string Key, Guid OperationId, ErrorCode Code, string Message) : IOperationReply
{
    /// <summary>With <see cref="ErrorCode.Saturated"/> from a bounded queue (<c>max-pending</c>, <c>max-active-keys</c>): which bound and how full; otherwise <c>null</c>.</summary>
    public Queues.QueueSaturated? Saturation { get; init; }
}

/// <summary>
/// Measurements of one finished batch (the Go library's <c>Metric</c>), published on the node that ran it: as a stream
/// (<see cref="BatchProcessor{TResource}.Metrics"/>) and through the library's .NET meter <c>Akka.WriteBehind</c>.
/// </summary>
/// <param name="TypeName">The resource type's name (its shard region).</param>
/// <param name="Key">The resource's key.</param>
/// <param name="BatchStart">When the batch opened (UTC): when its first operation was called, or when the batch before it
/// ended if that operation waited behind it.</param>
/// <param name="OperationCount">Operations answered by the batch: run, rejected, or failed with it (cancelled ones not counted).</param>
/// <param name="LoadDuration">Time spent loading; zero when the resource was still held (<c>keep-loaded</c>).</param>
/// <param name="SaveDuration">Time spent saving; zero when nothing needed saving.</param>
/// <param name="TotalDuration">From opening the batch to answering its operations.</param>
/// <param name="Error">The batch's failure, or <c>null</c> when it succeeded.</param>
/// <param name="ErrorMessage">The failure, for people; <c>null</c> when it succeeded.</param>
public sealed record BatchMetric(
    string TypeName,
    string Key,
    DateTime BatchStart,
    int OperationCount,
    TimeSpan LoadDuration,
    TimeSpan SaveDuration,
    TimeSpan TotalDuration,
    ErrorCode? Error,
    string? ErrorMessage);

/// <summary>
/// Registry key (<c>IRequiredActor&lt;BatchRegion&lt;TResource&gt;&gt;</c>) of the shard region of one resource type. Send it
/// <see cref="IBatchCommand"/>s, or use the type's <see cref="BatchProcessor{TResource}"/>.
/// </summary>
/// <typeparam name="TResource">The resource type.</typeparam>
public sealed class BatchRegion<TResource>
{
    private BatchRegion()
    {
    }
}
