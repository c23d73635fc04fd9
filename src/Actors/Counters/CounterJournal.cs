using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using Akka.Serialization;

namespace Akka.WriteBehind.Counters;

/// <summary>
/// INTERNAL API
/// <para>The journal event of a counter: a group of increments accepted together (group commit).</para>
/// </summary>
internal sealed record CounterIncremented(long Delta);

/// <summary>INTERNAL API: parent → journal: persist one group.</summary>
internal sealed record PersistIncrement(long Delta);

/// <summary>INTERNAL API: journal → parent: the group is in the journal at <see cref="Seq"/>.</summary>
internal sealed record IncrementPersisted(long Seq, long Delta);

/// <summary>INTERNAL API: journal → parent: the journal refused the group (it is not in the journal).</summary>
internal sealed record IncrementPersistRejected(string Reason);

/// <summary>INTERNAL API: journal → parent after recovery: the sum of events after the base sequence number, and the highest sequence number.</summary>
internal sealed record JournalRecovered(long PendingAfterBase, long HighestSeq, bool HasAppliedEvents);

/// <summary>INTERNAL API: parent → journal: delete events up to <see cref="ToSeq"/> (they are in the target); answered with <see cref="JournalTrimmed"/>.</summary>
internal sealed record TrimJournal(long ToSeq);

/// <summary>INTERNAL API: journal → parent: one trim finished (or failed; either way the parent may stop), in the order they were asked.</summary>
internal sealed class JournalTrimmed
{
    public static readonly JournalTrimmed Instance = new();

    private JournalTrimmed()
    {
    }
}

/// <summary>
/// INTERNAL API
/// <para>
/// The persistent half of a journal-durable counter: a child of <see cref="CounterActor"/> that only writes
/// <see cref="CounterIncremented"/> events, replays them, and deletes them once they are in the target. The parent keeps
/// all counter state; when this actor dies (a failed persist stops a persistent actor), the parent answers the callers of
/// the group in flight, and recreates it with back-off, and it replays again.
/// </para>
/// </summary>
internal sealed class CounterJournalActor : UntypedPersistentActor
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly long _base;
    private long _pendingAfterBase;
    private bool _hasAppliedEvents;

    public CounterJournalActor(string persistenceId, string journalPluginId, long baseSeq)
    {
        PersistenceId = persistenceId;
        JournalPluginId = journalPluginId;
        SnapshotPluginId = "akka.persistence.no-snapshot-store";
        _base = baseSeq;
    }

    public override string PersistenceId { get; }

    public static Props Props(string persistenceId, string journalPluginId, long baseSeq) =>
        Akka.Actor.Props.Create(() => new CounterJournalActor(persistenceId, journalPluginId, baseSeq));

    // switch statements, not ReceivePersistentActor handler lists: one of these is created per key (issue 9)
    protected override void OnRecover(object message)
    {
        switch (message)
        {
            case CounterIncremented e:
                if (LastSequenceNr > _base)
                    _pendingAfterBase = checked(_pendingAfterBase + e.Delta);
                else
                    _hasAppliedEvents = true;
                break;
            case RecoveryCompleted:
                Context.Parent.Tell(new JournalRecovered(_pendingAfterBase, LastSequenceNr, _hasAppliedEvents));
                break;
        }
    }

    protected override void OnCommand(object message)
    {
        switch (message)
        {
            case PersistIncrement cmd:
                Persist(new CounterIncremented(cmd.Delta), e => Context.Parent.Tell(new IncrementPersisted(LastSequenceNr, e.Delta)));
                break;
            case TrimJournal trim:
                DeleteMessages(Math.Min(trim.ToSeq, LastSequenceNr));
                break;
            case DeleteMessagesSuccess:
                TrimDone();
                break;
            case DeleteMessagesFailure failure:
                _log.Warning(failure.Cause, "Deleting journal events of {0} up to {1} failed; they are deleted with a later trim", PersistenceId, failure.ToSequenceNr);
                TrimDone();
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    protected override void OnPersistRejected(Exception cause, object @event, long sequenceNr)
    {
        base.OnPersistRejected(cause, @event, sequenceNr);
        Context.Parent.Tell(new IncrementPersistRejected($"{cause.GetType().Name}: {cause.Message}"));
    }

    private void TrimDone() => Context.Parent.Tell(JournalTrimmed.Instance);
}

/// <summary>
/// INTERNAL API
/// <para>Binary serializer of <see cref="CounterIncremented"/> (8 bytes, manifest "ci"), so the journal does not depend on CLR type names.</para>
/// </summary>
internal sealed class CounterEventSerializer : SerializerWithStringManifest
{
    private const string IncrementedManifest = "ci";

    public CounterEventSerializer(ExtendedActorSystem system) : base(system)
    {
    }

    public override int Identifier => 4_801_201;

    public override byte[] ToBinary(object obj) => obj switch
    {
        CounterIncremented e => ToBigEndian(e.Delta),
        _ => throw new ArgumentException($"Cannot serialize {obj.GetType()}", nameof(obj)),
    };

    public override object FromBinary(byte[] bytes, string manifest) => manifest switch
    {
        IncrementedManifest => new CounterIncremented(System.Buffers.Binary.BinaryPrimitives.ReadInt64BigEndian(bytes)),
        _ => throw new System.Runtime.Serialization.SerializationException($"Unknown manifest [{manifest}] for counter events"),
    };

    public override string Manifest(object o) => o switch
    {
        CounterIncremented => IncrementedManifest,
        _ => throw new ArgumentException($"Cannot serialize {o.GetType()}", nameof(o)),
    };

    private static byte[] ToBigEndian(long value)
    {
        var bytes = new byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(bytes, value);
        return bytes;
    }
}
