using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using Akka.WriteBehind.Internal;

namespace Akka.WriteBehind.Counters;

/// <summary>
/// INTERNAL API
/// <para>
/// The node's writer of shard-log events of one journal-durable counter set, and the one that sends their trims. Each shard
/// log hands it its next event (<see cref="WriteShardEvent"/>); events that arrive while a write is in flight go into the
/// next write together, as one <see cref="WriteMessages"/> to the journal holding one atomic write per shard log.
/// Akka.Persistence.Sql turns that into one transaction and one multi-row insert, where a persist per shard log cost the
/// journal a transaction per event (on SQLite, whose writes run synchronously, the plugin's own batching never gets a
/// second event to join the first).
/// </para>
/// <para>
/// Trims (<see cref="TrimShardLog"/>) take turns with the writes, one delete at a time: a delete never runs at once with a
/// write or another delete, so they never meet on the journal's database (on SQLite a statement that meets another writer
/// sleeps 150 ms before it retries, and each delete is a transaction of its own). After a write, a waiting trim goes first;
/// after a trim, the waiting writes go first, so neither starves the other. The shard logs stay the single writers of their
/// persistence ids: each chooses its sequence numbers and has at most one event and one trim outstanding, so what waits
/// here is bounded by the number of shard logs on the node. This actor only carries events and trims and routes each
/// answer back to its log.
/// </para>
/// </summary>
internal sealed class ShardJournalWriterActor : UntypedActor
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly IActorRef _journal;
    private readonly List<(IActorRef Log, WriteShardEvent Write)> _waitingWrites = new();
    private readonly Dictionary<string, IActorRef> _writesInFlight = new(StringComparer.Ordinal); // persistence id → its log
    private readonly Queue<(IActorRef Log, TrimShardLog Trim)> _waitingTrims = new();

    private readonly FailureStreak _failures;

    public ShardJournalWriterActor(string journalPluginId, FailureStreak failures)
    {
        _journal = Akka.Persistence.Persistence.Instance.Apply(Context.System).JournalFor(journalPluginId);
        _failures = failures;
    }

    public ShardJournalWriterActor(IActorRef journal)
    {
        _journal = journal;
        _failures = new FailureStreak();
    }

    /// <param name="journalPluginId">The journal plugin the set's shard logs recover from.</param>
    /// <param name="failures">The set's journal failures on this node, which its shard logs count too.</param>
    public static Props Props(string journalPluginId, FailureStreak failures) =>
        Akka.Actor.Props.Create(() => new ShardJournalWriterActor(journalPluginId, failures));

    /// <param name="journalPluginId">The journal plugin the set's shard logs recover from.</param>
    public static Props Props(string journalPluginId) => Props(journalPluginId, new FailureStreak());

    /// <param name="journal">The journal actor itself (specs give a probe).</param>
    public static Props Props(IActorRef journal) => Akka.Actor.Props.Create(() => new ShardJournalWriterActor(journal));

    /// <summary>Idle: the first write or trim goes out at once.</summary>
    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case WriteShardEvent write:
                _waitingWrites.Add((Sender, write));
                WriteWaiting();
                break;
            case TrimShardLog trim:
                _waitingTrims.Enqueue((Sender, trim));
                TrimNext();
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    /// <summary>A write in flight: writes and trims wait; once every event of it is answered a waiting trim goes first.</summary>
    private void Writing(object message)
    {
        switch (message)
        {
            case WriteMessageSuccess success:
                _failures.Succeeded(_log, "The shard-log journal");
                Written(success.Persistent)?.Tell(new ShardEventWritten(success.Persistent.SequenceNr));
                break;
            case WriteMessageRejected rejected:
                Written(rejected.Persistent)?.Tell(new ShardEventRejected(rejected.Persistent.SequenceNr, rejected.Cause));
                break;
            case WriteMessageFailure failure:
                Written(failure.Persistent)?.Tell(new ShardEventFailed(failure.Persistent.SequenceNr, failure.Cause));
                break;
            case WriteMessagesSuccessful:
                break; // each event's own answer follows
            case WriteMessagesFailed batchFailed:
                if (_failures.Failed())
                    _log.Warning(batchFailed.Cause, "Writing {0} shard-log events failed; their logs restart and replay " +
                        "(further journal failures of the counter set are logged at debug level until the journal answers)", batchFailed.WriteCount);
                else
                    _log.Debug("Writing {0} shard-log events failed: {1}: {2}", batchFailed.WriteCount, batchFailed.Cause.GetType().Name, batchFailed.Cause.Message);
                break;
            default:
                Waiting(message);
                break;
        }
    }

    /// <summary>A trim of <paramref name="log"/> in flight: writes and trims wait; once it is answered the writes go first.</summary>
    private void Deleting(object message, IActorRef log, long toSeq)
    {
        switch (message)
        {
            case DeleteMessagesSuccess success when success.ToSequenceNr == toSeq:
                Trimmed();
                log.Tell(success);
                break;
            case DeleteMessagesFailure failure when failure.ToSequenceNr == toSeq:
                Trimmed();
                log.Tell(failure);
                break;
            default:
                Waiting(message);
                break;
        }
    }

    /// <summary>What Writing and Deleting share: what arrives meanwhile waits for its turn.</summary>
    private void Waiting(object message)
    {
        switch (message)
        {
            case WriteShardEvent write:
                _waitingWrites.Add((Sender, write));
                break;
            case TrimShardLog trim:
                _waitingTrims.Enqueue((Sender, trim));
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    /// <summary>The log of an answered event; once every event of the write is answered, the next turn starts.</summary>
    private IActorRef? Written(IPersistentRepresentation persistent)
    {
        if (!_writesInFlight.Remove(persistent.PersistenceId, out var log))
            return null;
        // a trim first, so a steady stream of writes cannot hold the trims back
        if (_writesInFlight.Count == 0 && !TrimNext() && !WriteWaiting())
            Become(OnReceive);
        return log;
    }

    private void Trimmed()
    {
        if (!WriteWaiting() && !TrimNext())
            Become(OnReceive);
    }

    /// <returns>Whether a write went out.</returns>
    private bool WriteWaiting()
    {
        if (_waitingWrites.Count == 0)
            return false;
        var writes = new List<IPersistentEnvelope>(_waitingWrites.Count);
        foreach (var (log, write) in _waitingWrites)
        {
            // a log has one event outstanding at a time, so a persistence id appears once per write
            _writesInFlight[write.PersistenceId] = log;
            writes.Add(new AtomicWrite(new Persistent(write.Event, write.Seq, write.PersistenceId, "", false, ActorRefs.NoSender, write.WriterGuid)));
        }

        _waitingWrites.Clear(); // copied into the write: the list is kept for the next one
        _journal.Tell(new WriteMessages(writes, Self, 0));
        Become(Writing);
        return true;
    }

    /// <returns>Whether a trim went out.</returns>
    private bool TrimNext()
    {
        if (!_waitingTrims.TryDequeue(out var next))
            return false;
        var (log, trim) = next;
        _journal.Tell(new DeleteMessagesTo(trim.PersistenceId, trim.ToSeq, Self));
        Become(message => Deleting(message, log, trim.ToSeq));
        return true;
    }
}
