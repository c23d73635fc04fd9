using Akka.Actor;
using Akka.WriteBehind.Batches;
using Akka.WriteBehind.Counters;
using Akka.WriteBehind.Queues;

namespace Akka.WriteBehind.CallGroups;

/// <summary>
/// One operation of a <see cref="CallGroup{TId}"/>: how to send it, and how to recognise its answer. The group's aggregator
/// actor calls these on its own thread, one at a time. Implement it to plug another kind of operation into call groups (the
/// group itself does not change): the target must answer every message it gets exactly once, to the sender.
/// </summary>
public interface IGroupOperation
{
    /// <summary>The key the operation addresses (for messages and logs).</summary>
    string Key { get; }

    /// <summary>Reads the answers of this kind of operation. Operations of one kind share one reader.</summary>
    IGroupReplyReader Replies { get; }

    /// <summary>
    /// A fresh correlation token of this operation: equal tokens mean the answers cannot be told apart (e.g. the same counter
    /// key), so the group sends such operations one after another, each once the previous one is answered.
    /// </summary>
    object NewCorrelation();

    /// <summary>Sends the operation with <paramref name="replyTo"/> as sender.</summary>
    /// <param name="correlation">The token from <see cref="NewCorrelation"/>.</param>
    /// <param name="replyTo">The group's aggregator.</param>
    /// <param name="deadline">The group's deadline (UTC): targets that can, skip the operation after it.</param>
    /// <returns><c>null</c> when sent; an outcome when the operation is refused without being sent (invalid key, saturated, ...).</returns>
    Outcome? Send(object correlation, IActorRef replyTo, DateTime deadline);

    /// <summary>The operation is settled: answered (<paramref name="answered"/>) or given up at the group's deadline.</summary>
    /// <param name="correlation">The token it was sent with.</param>
    /// <param name="answered">Whether its answer arrived in time.</param>
    void Finish(object correlation, bool answered);
}

/// <summary>Recognises the answers of one kind of <see cref="IGroupOperation"/>.</summary>
public interface IGroupReplyReader
{
    /// <summary>Whether <paramref name="reply"/> answers an operation of this kind; if so, which (by token) and its outcome.</summary>
    /// <param name="reply">A message the aggregator received.</param>
    /// <param name="correlation">The token the answered operation was sent with.</param>
    /// <param name="outcome">The operation's outcome.</param>
    bool TryRead(object reply, out object correlation, out Outcome outcome);
}

/// <summary>
/// A counter command (<see cref="Increment"/>, <see cref="GetCounter"/>, <see cref="FlushCounter"/>) in a call group, sent to
/// the counters' entry point (<see cref="CounterRegion"/>, <see cref="CounterSet.Region"/>). Its success result is the entity's
/// <see cref="ICounterReply"/>. Counter answers carry only the key, so commands for the same key in one group run one after
/// another, in the group's order (a <see cref="GetCounter"/> after an <see cref="Increment"/> of the same key sees it).
/// </summary>
/// <param name="counters">The counters' entry point.</param>
/// <param name="command">The command.</param>
public sealed class CounterGroupOperation(IActorRef counters, ICounterCommand command) : IGroupOperation
{
    /// <summary>The command.</summary>
    public ICounterCommand Command { get; } = command ?? throw new ArgumentNullException(nameof(command));

    /// <inheritdoc />
    public string Key => Command.Key;

    /// <inheritdoc />
    public IGroupReplyReader Replies => CounterReplyReader.Instance;

    /// <inheritdoc />
    public object NewCorrelation() => new CounterCorrelation(Command.Key);

    /// <inheritdoc />
    public Outcome? Send(object correlation, IActorRef replyTo, DateTime deadline)
    {
        counters.Tell(Command, replyTo);
        return null;
    }

    /// <inheritdoc />
    public void Finish(object correlation, bool answered)
    {
    }

    private sealed record CounterCorrelation(string Key);

    private sealed class CounterReplyReader : IGroupReplyReader
    {
        public static readonly CounterReplyReader Instance = new();

        public bool TryRead(object reply, out object correlation, out Outcome outcome)
        {
            switch (reply)
            {
                case CounterRejected rejected:
                    correlation = new CounterCorrelation(rejected.Key);
                    outcome = new Outcome.Failed(rejected.Code, rejected.Message) { Saturation = rejected.Saturation };
                    return true;
                case ICounterReply answer:
                    correlation = new CounterCorrelation(answer.Key);
                    outcome = new Outcome.Succeeded(answer);
                    return true;
                default:
                    correlation = null!;
                    outcome = null!;
                    return false;
            }
        }
    }
}

/// <summary>
/// A batch operation in a call group: <see cref="Operation"/> run on the resource <see cref="Key"/> through the resource type's
/// <see cref="BatchProcessor{TResource}"/> (same key check, shutdown check and <c>max-in-flight</c> as
/// <see cref="BatchProcessor{TResource}.RunAsync{TResult}(string, IBatchOperation{TResult}, CancellationToken)"/>), with the group's
/// deadline as the operation's deadline. Answers carry a fresh operation id, so operations on the same key are sent together
/// and usually share a batch. Its success result is the handler's result. At the group's deadline an unanswered operation is
/// cancelled (if it has not run yet, it never will).
/// </summary>
/// <param name="processor">The resource type's processor.</param>
/// <param name="key">The resource's key.</param>
/// <param name="operation">The operation.</param>
/// <param name="requestId">Optional: the caller's request id (<see cref="RequestIds"/>); an invalid one is answered
/// <see cref="ErrorCode.InvalidArgument"/> without sending the operation.</param>
/// <typeparam name="TResource">The resource type.</typeparam>
public sealed class BatchGroupOperation<TResource>(BatchProcessor<TResource> processor, string key, IBatchOperation operation,
    string? requestId = null) : IGroupOperation
    where TResource : notnull
{
    /// <summary>The caller's request id (<see cref="RequestIds"/>), or <c>null</c>: a repeat within the type's idempotency
    /// window is answered with the first answer and not applied again.</summary>
    public string? RequestId { get; } = requestId;

    /// <inheritdoc />
    public string Key { get; } = key;

    /// <summary>The operation.</summary>
    public IBatchOperation Operation { get; } = operation ?? throw new ArgumentNullException(nameof(operation));

    /// <inheritdoc />
    public IGroupReplyReader Replies => BatchReplyReader.Instance;

    /// <inheritdoc />
    public object NewCorrelation() => processor.Ingest.NewOperationId();

    /// <inheritdoc />
    public Outcome? Send(object correlation, IActorRef replyTo, DateTime deadline)
    {
        if (processor.Refusal(Key) is { } refused)
            return new Outcome.Failed(refused.Code, refused.Message) { Saturation = refused.Saturation };
        if (RequestId is not null && !RequestIds.TryValidate(RequestId, out var requestIdError))
            return new Outcome.Failed(ErrorCode.InvalidArgument, requestIdError!);
        // through the processor's grouping stage, as RunAsync: operations of one key reach its entity as one message
        processor.Send(new RunOperation(Key, (Guid)correlation, Operation, deadline, RequestId), replyTo);
        return null;
    }

    /// <inheritdoc />
    public void Finish(object correlation, bool answered)
    {
        processor.ExitInFlight();
        if (!answered)
            processor.CancelSent(Key, (Guid)correlation);
    }
}

/// <summary>INTERNAL API: reads the answers of batch operations (any resource type: they are told apart by operation id).</summary>
internal sealed class BatchReplyReader : IGroupReplyReader
{
    public static readonly BatchReplyReader Instance = new();

    public bool TryRead(object reply, out object correlation, out Outcome outcome)
    {
        switch (reply)
        {
            case OperationSucceeded succeeded:
                correlation = succeeded.OperationId;
                outcome = new Outcome.Succeeded(succeeded.Result);
                return true;
            case OperationRejected rejected:
                correlation = rejected.OperationId;
                outcome = new Outcome.Failed(rejected.Code, rejected.Message) { IsRejection = true };
                return true;
            case OperationFailed failed:
                correlation = failed.OperationId;
                outcome = new Outcome.Failed(failed.Code, failed.Message) { Saturation = failed.Saturation };
                return true;
            default:
                correlation = null!;
                outcome = null!;
                return false;
        }
    }
}
