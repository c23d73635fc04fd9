using Akka.Actor;
using Akka.Event;
using Akka.Persistence;

namespace Akka.WriteBehind.Counters;

/// <summary>
/// INTERNAL API
/// <para>
/// The node's writer of shard-log events of one journal-durable counter set. Each shard log hands it its next event
/// (<see cref="WriteShardEvent"/>); events that arrive while a write is in flight go into the next write together, as one
/// <see cref="WriteMessages"/> to the journal holding one atomic write per shard log. Akka.Persistence.Sql turns that into one
/// transaction and one multi-row insert, where a persist per shard log cost the journal a transaction per event (on SQLite,
/// whose writes run synchronously, the plugin's own batching never gets a second event to join the first).
/// </para>
/// <para>
/// The shard logs stay the single writers of their persistence ids: each chooses its sequence numbers and has at most one
/// event outstanding, so what waits here is bounded by the number of shard logs on the node. This actor only carries the
/// events and routes each answer back to its log.
/// </para>
/// </summary>
internal sealed class ShardJournalWriterActor : UntypedActor
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly IActorRef _journal;
    private List<(IActorRef Log, WriteShardEvent Write)> _waiting = new();
    private readonly Dictionary<string, IActorRef> _inFlight = new(StringComparer.Ordinal); // persistence id → its log, this write

    public ShardJournalWriterActor(string journalPluginId) =>
        _journal = Akka.Persistence.Persistence.Instance.Apply(Context.System).JournalFor(journalPluginId);

    /// <param name="journalPluginId">The journal plugin the set's shard logs recover from.</param>
    public static Props Props(string journalPluginId) => Akka.Actor.Props.Create(() => new ShardJournalWriterActor(journalPluginId));

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case WriteShardEvent write:
                _waiting.Add((Sender, write));
                if (_inFlight.Count == 0)
                    WriteWaiting();
                break;
            case WriteMessageSuccess success:
                if (Answered(success.Persistent) is { } written)
                    written.Tell(new ShardEventWritten(success.Persistent.SequenceNr));
                break;
            case WriteMessageRejected rejected:
                if (Answered(rejected.Persistent) is { } refused)
                    refused.Tell(new ShardEventRejected(rejected.Persistent.SequenceNr, rejected.Cause));
                break;
            case WriteMessageFailure failure:
                if (Answered(failure.Persistent) is { } failed)
                    failed.Tell(new ShardEventFailed(failure.Persistent.SequenceNr, failure.Cause));
                break;
            case WriteMessagesSuccessful:
                break; // each event's own answer follows
            case WriteMessagesFailed batchFailed:
                _log.Warning(batchFailed.Cause, "Writing {0} shard-log events failed; their logs restart and replay", batchFailed.WriteCount);
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    /// <summary>The log of an answered event; the next write starts once every event of this one is answered.</summary>
    private IActorRef? Answered(IPersistentRepresentation persistent)
    {
        if (!_inFlight.Remove(persistent.PersistenceId, out var log))
            return null;
        if (_inFlight.Count == 0 && _waiting.Count > 0)
            WriteWaiting();
        return log;
    }

    private void WriteWaiting()
    {
        var writes = new List<IPersistentEnvelope>(_waiting.Count);
        foreach (var (log, write) in _waiting)
        {
            // a log has one event outstanding at a time, so a persistence id appears once per write
            _inFlight[write.PersistenceId] = log;
            writes.Add(new AtomicWrite(new Persistent(write.Event, write.Seq, write.PersistenceId, "", false, ActorRefs.NoSender, write.WriterGuid)));
        }

        _waiting = new List<(IActorRef, WriteShardEvent)>(_waiting.Count);
        _journal.Tell(new WriteMessages(writes, Self, 0));
    }
}
