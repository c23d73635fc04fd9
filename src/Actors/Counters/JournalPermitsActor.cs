using Akka.Actor;

namespace Akka.WriteBehind.Counters;

/// <summary>INTERNAL API: an entity asks for a permit to persist one event.</summary>
internal sealed class RequestPersistPermit
{
    public static readonly RequestPersistPermit Instance = new();

    private RequestPersistPermit()
    {
    }
}

/// <summary>INTERNAL API: the entity may persist one event.</summary>
internal sealed class PersistPermitGranted
{
    public static readonly PersistPermitGranted Instance = new();

    private PersistPermitGranted()
    {
    }
}

/// <summary>INTERNAL API: the entity's persist finished (either way).</summary>
internal sealed class ReleasePersistPermit
{
    public static readonly ReleasePersistPermit Instance = new();

    private ReleasePersistPermit()
    {
    }
}

/// <summary>
/// INTERNAL API
/// <para>
/// Bounds the persists in flight on this node (<c>journal.max-persists-in-flight</c>) so that any number of active keys
/// cannot overrun the journal's buffer or open its circuit breaker. Entities wait in arrival order; each holds at most one
/// permit. A permit held by an entity that dies is returned.
/// </para>
/// </summary>
internal sealed class JournalPermitsActor : ReceiveActor
{
    private readonly int _max;
    private readonly CounterLedger _ledger;
    private readonly HashSet<IActorRef> _holders = new();
    private readonly Queue<IActorRef> _waiting = new();

    public JournalPermitsActor(int max, CounterLedger ledger)
    {
        _max = max;
        _ledger = ledger;

        Receive<RequestPersistPermit>(_ =>
        {
            if (_holders.Count < _max)
                Grant(Sender);
            else
                _waiting.Enqueue(Sender);
        });
        Receive<ReleasePersistPermit>(_ => Release(Sender));
        Receive<Terminated>(t => Release(t.ActorRef));
    }

    public static Props Props(int max, CounterLedger ledger) => Akka.Actor.Props.Create(() => new JournalPermitsActor(max, ledger));

    private void Grant(IActorRef entity)
    {
        if (_holders.Add(entity))
            Context.Watch(entity);
        _ledger.PersistsInFlightAre(_holders.Count);
        entity.Tell(PersistPermitGranted.Instance);
    }

    private void Release(IActorRef entity)
    {
        if (!_holders.Remove(entity))
            return;
        Context.Unwatch(entity);
        _ledger.PersistsInFlightAre(_holders.Count);
        while (_holders.Count < _max && _waiting.Count > 0)
            Grant(_waiting.Dequeue());
    }
}
