namespace Akka.WriteBehind.Counters;

/// <summary>A command for one counter entity. Send it to the <see cref="CounterRegion"/> actor.</summary>
public interface ICounterCommand : IWithKey
{
}

/// <summary>A reply from a counter entity: one of <see cref="IncrementAccepted"/>, <see cref="CounterValue"/>,
/// <see cref="CounterFlushed"/> or <see cref="CounterRejected"/>.</summary>
public interface ICounterReply : IWithKey
{
}

/// <summary>
/// Adds <paramref name="Delta"/> to the counter <paramref name="Key"/>. Tell it for fire-and-forget, Ask it for an
/// acknowledgement: the reply is <see cref="IncrementAccepted"/> once the entity holds the increment, or
/// <see cref="CounterRejected"/> (<see cref="ErrorCode.InvalidKey"/>, <see cref="ErrorCode.Overflow"/>,
/// <see cref="ErrorCode.Saturated"/>, <see cref="ErrorCode.ShuttingDown"/>). Senders that are
/// <c>ActorRefs.NoSender</c> get no reply; their refusals are logged as warnings.
/// </summary>
/// <param name="Key">The counter's key.</param>
/// <param name="Delta">Any 64-bit value, negative included. The running sum is checked: a sum that would overflow is refused, never wrapped.</param>
public sealed record Increment(string Key, long Delta) : ICounterCommand
{
    /// <summary>
    /// Makes the increment safe to retry: a repeat of this id for the same key within <c>idempotency.window</c> (10 minutes by
    /// default) is not applied again and is answered as the first was (<see cref="IncrementAccepted"/>) — also after a crash
    /// or a hand-off, since the id travels with the increment to the journal and the row. <c>null</c> (the default): no id.
    /// An id that breaks <see cref="RequestIds"/> is refused with <see cref="ErrorCode.InvalidArgument"/>.
    /// </summary>
    public string? RequestId { get; init; }
}

/// <summary>Asks for the counter's value; the reply is <see cref="CounterValue"/> (read-your-writes: its total includes increments not yet flushed).</summary>
/// <param name="Key">The counter's key.</param>
public sealed record GetCounter(string Key) : ICounterCommand;

/// <summary>
/// Forces a flush of the counter (the Go library's manual <c>Sync</c>). The reply is <see cref="CounterFlushed"/> once every
/// increment accepted before this command is stored, or <see cref="CounterRejected"/> with <see cref="ErrorCode.StoreFailure"/>
/// if that write failed (the delta is kept and retried).
/// </summary>
/// <param name="Key">The counter's key.</param>
public sealed record FlushCounter(string Key) : ICounterCommand;

/// <summary>The increment was accepted and is held by the entity.</summary>
/// <param name="Key">The counter's key.</param>
/// <param name="Delta">The accepted delta.</param>
public sealed record IncrementAccepted(string Key, long Delta) : ICounterReply;

/// <summary>The value of a counter.</summary>
/// <param name="Key">The counter's key.</param>
/// <param name="Stored">The value in the store, as of the last confirmed flush.</param>
/// <param name="Pending">The sum of accepted increments not yet confirmed stored (including a write in flight).</param>
/// <param name="Total"><paramref name="Stored"/> + <paramref name="Pending"/>.</param>
public sealed record CounterValue(string Key, long Stored, long Pending, long Total) : ICounterReply;

/// <summary>Every increment accepted before the <see cref="FlushCounter"/> is stored.</summary>
/// <param name="Key">The counter's key.</param>
/// <param name="Stored">The stored value after the flush.</param>
public sealed record CounterFlushed(string Key, long Stored) : ICounterReply;

/// <summary>The command was refused; nothing was changed.</summary>
/// <param name="Key">The key of the refused command.</param>
/// <param name="Code">Why, as a code to switch on.</param>
/// <param name="Message">Why, for people.</param>
public sealed record CounterRejected(string Key, ErrorCode Code, string Message) : ICounterReply
{
    /// <summary>With <see cref="ErrorCode.Saturated"/> from the ingest stage's bounded queues: which bound and how full; otherwise <c>null</c>.</summary>
    public Queues.QueueSaturated? Saturation { get; init; }
}

/// <summary>
/// Registry key (<c>IRequiredActor&lt;CounterRegion&gt;</c>) of the counters' entry point: the node-local, flow-controlled
/// ingest stage in front of the counter shard region. Send it <see cref="ICounterCommand"/>s.
/// </summary>
public sealed class CounterRegion
{
    private CounterRegion()
    {
    }
}
