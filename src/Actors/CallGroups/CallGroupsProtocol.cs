using Akka.WriteBehind.Queues;

namespace Akka.WriteBehind.CallGroups;

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
