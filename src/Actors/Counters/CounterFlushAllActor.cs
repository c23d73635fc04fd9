using Akka.Actor;

namespace Akka.WriteBehind.Counters;

/// <summary>
/// INTERNAL API
/// <para>
/// The flush-all entry of one counter set on one node (<c>/user/&lt;type name&gt;-flush-all</c> on every member). A
/// <see cref="FlushAllCounters"/> from the facade starts a <see cref="CounterClusterFlushActor"/> that asks this actor on
/// every member; a <see cref="FlushNodeCounters"/> starts a <see cref="CounterNodeFlushActor"/> for this node's keys. Each
/// request is its own child, so requests never mix their answers.
/// </para>
/// </summary>
internal sealed class CounterFlushAllActor : UntypedActor
{
    private readonly IActorRef _ingest;
    private readonly CounterLedger _ledger;
    private readonly CounterSettings _settings;

    public CounterFlushAllActor(IActorRef ingest, CounterLedger ledger, CounterSettings settings)
    {
        _ingest = ingest;
        _ledger = ledger;
        _settings = settings;
    }

    /// <summary>The name of the actor on every member: the same there as here, so members find each other's.</summary>
    public static string NameOf(CounterSettings settings) => $"{settings.TypeName}-flush-all";

    public static Props Props(IActorRef ingest, CounterLedger ledger, CounterSettings settings) =>
        Akka.Actor.Props.Create(() => new CounterFlushAllActor(ingest, ledger, settings));

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case FlushAllCounters all:
                Context.ActorOf(CounterClusterFlushActor.Props(NameOf(_settings), all.Timeout, Sender));
                break;
            case FlushNodeCounters node:
                Context.ActorOf(CounterNodeFlushActor.Props(_ingest, _ledger, _settings.FlushAll.Parallelism, node, Sender));
                break;
            default:
                Unhandled(message);
                break;
        }
    }
}
