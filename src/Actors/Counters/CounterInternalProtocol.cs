using System.Collections.Immutable;
using Akka.Actor;

namespace Akka.WriteBehind.Counters;

/// <summary>
/// INTERNAL API
/// <para>A command forwarded by the ingest stage: the entity handles <see cref="Command"/> as if
/// <see cref="ReplyTo"/> had sent it, then confirms <see cref="Id"/> to the ingest stage (the sender).</para>
/// </summary>
internal sealed record CounterEnvelope(ICounterCommand Command, IActorRef ReplyTo, long Id) : IWithKey
{
    public string Key => Command.Key;
}

/// <summary>
/// INTERNAL API
/// <para>The commands the ingest stage queued for one key, handed to the entity as one set (one message, one ingest slot):
/// the entity handles them in order, each as if its <see cref="QueuedCounterCommand.ReplyTo"/> had sent it — every increment
/// checked and answered on its own, as one by one — and confirms <see cref="Id"/> once (in journal mode, once the set's
/// increments are journaled).</para>
/// </summary>
internal sealed record CounterCommandSet(string Key, ImmutableArray<QueuedCounterCommand> Commands, long Id) : IWithKey;

/// <summary>INTERNAL API: one command of a <see cref="CounterCommandSet"/> and whom to answer.</summary>
internal sealed record QueuedCounterCommand(ICounterCommand Command, IActorRef ReplyTo);

/// <summary>INTERNAL API: the entity took the envelope <see cref="Id"/> out of its mailbox.</summary>
internal sealed record CounterEnvelopeTaken(long Id);

/// <summary>
/// INTERNAL API: the answer to one of the ingest stage's own aggregates (its envelope <see cref="Id"/>) and that envelope's
/// confirmation, in one message where <see cref="Answer"/> and a <see cref="CounterEnvelopeTaken"/> were two: sent when the
/// entity answers at once (memory durability, or a refusal) and when a journaled aggregate's persist is done.
/// </summary>
internal sealed record AggregateAnswered(long Id, ICounterReply Answer);

/// <summary>INTERNAL API: hand-off / passivation stop message of counter entities: flush, then stop.</summary>
internal sealed class StopCounter
{
    public static readonly StopCounter Instance = new();

    private StopCounter()
    {
    }
}

/// <summary>
/// INTERNAL API: starts the entity of <see cref="Key"/> (the journal sweep uses it so journaled increments reach the target),
/// or, sent to a running one through its shard, keeps sharding from passivating it as idle (its shard log does that for a
/// counter whose increments all take the log's route).
/// </summary>
internal sealed record WakeCounter(string Key) : ICounterCommand;

/// <summary>INTERNAL API: an increment a caller sent with a request id: the id and the increment's own delta.</summary>
internal readonly record struct RequestDelta(string Id, long Delta);

/// <summary>
/// INTERNAL API
/// <para>The fast path's aggregate of one key's increments (<see cref="Delta"/> is their sum), with the request ids of those
/// sent with one: the entity leaves out the ones it already counted, and the ids travel on to the journal and the row.</para>
/// </summary>
internal sealed record AggregatedIncrement(string Key, long Delta, ImmutableArray<RequestDelta> Requests) : ICounterCommand;

/// <summary>INTERNAL API: an acknowledged increment was buffered in the fast path; drain now instead of at the window. Node-local.</summary>
internal sealed class DrainAggregatesNow : INoSerializationVerificationNeeded
{
    public static readonly DrainAggregatesNow Instance = new();

    private DrainAggregatesNow()
    {
    }
}
