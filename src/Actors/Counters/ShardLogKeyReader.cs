using System.Collections.Immutable;
using Akka.Actor;
using Akka.Persistence;

namespace Akka.WriteBehind.Counters;

/// <summary>
/// INTERNAL API
/// <para>
/// Reads one key's deltas from a range of its shard log's events in the journal, for the key's next counter when the one
/// before stopped without storing deltas the log had handed it (killed, or its last write failed). The log keeps no
/// journaled deltas in memory once handed on, so the journal is where they are; this is rare, so a read of the range (the
/// events are not trimmed while a key has any unstored) costs less than keeping every delta until its key is stored.
/// A child of the log, answering it with <see cref="KeyEventsRead"/> or <see cref="KeyEventsReadFailed"/>, then stopping.
/// </para>
/// </summary>
internal sealed class ShardLogKeyReader : UntypedActor
{
    private readonly IActorRef _journal;
    private readonly string _persistenceId;
    private readonly string _key;
    private readonly IActorRef _counter;
    private readonly long _fromSeq;
    private readonly long _toSeq;
    private readonly ImmutableArray<JournaledDelta>.Builder _events = ImmutableArray.CreateBuilder<JournaledDelta>();

    public ShardLogKeyReader(IActorRef journal, string persistenceId, string key, IActorRef counter, long fromSeq, long toSeq, TimeSpan timeout)
    {
        _journal = journal;
        _persistenceId = persistenceId;
        _key = key;
        _counter = counter;
        _fromSeq = fromSeq;
        _toSeq = toSeq;
        Context.SetReceiveTimeout(timeout);
    }

    /// <param name="journal">The journal plugin's actor.</param>
    /// <param name="persistenceId">The shard log's persistence id.</param>
    /// <param name="key">The key whose deltas are read.</param>
    /// <param name="counter">The counter they are for (named in the answer).</param>
    /// <param name="fromSeq">The first event to read.</param>
    /// <param name="toSeq">The last event to read.</param>
    /// <param name="timeout">How long the journal may take to answer.</param>
    public static Props Props(IActorRef journal, string persistenceId, string key, IActorRef counter, long fromSeq, long toSeq, TimeSpan timeout) =>
        Akka.Actor.Props.Create(() => new ShardLogKeyReader(journal, persistenceId, key, counter, fromSeq, toSeq, timeout));

    protected override void PreStart()
    {
        if (_fromSeq > _toSeq)
            Answer(new KeyEventsRead(_key, _counter, ImmutableArray<JournaledDelta>.Empty));
        else
            _journal.Tell(new ReplayMessages(_fromSeq, _toSeq, long.MaxValue, _persistenceId, Self));
    }

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case ReplayedMessage { Persistent: { Payload: ShardIncrements e } persistent }:
                foreach (var d in e.Deltas)
                {
                    if (d.Key == _key)
                        _events.Add(new JournaledDelta(persistent.SequenceNr, d.Delta, d.Requests));
                }

                break;
            case ReplayedMessage:
                break; // not a counter event
            case RecoverySuccess:
                Answer(new KeyEventsRead(_key, _counter, _events.ToImmutable()));
                break;
            case ReplayMessagesFailure failure:
                Answer(new KeyEventsReadFailed(_key, _counter, failure.Cause));
                break;
            case ReceiveTimeout:
                Answer(new KeyEventsReadFailed(_key, _counter, new TimeoutException($"the journal did not answer a read of {_persistenceId} within the write timeout")));
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    private void Answer(object answer)
    {
        Context.Parent.Tell(answer);
        Context.Stop(Self);
    }
}

/// <summary>INTERNAL API: <see cref="ShardLogKeyReader"/> → its log: the events of <see cref="Key"/> in the range read, oldest first.</summary>
internal sealed record KeyEventsRead(string Key, IActorRef Counter, ImmutableArray<JournaledDelta> Events) : INoSerializationVerificationNeeded;

/// <summary>INTERNAL API: <see cref="ShardLogKeyReader"/> → its log: the read failed.</summary>
internal sealed record KeyEventsReadFailed(string Key, IActorRef Counter, Exception Cause) : INoSerializationVerificationNeeded;
