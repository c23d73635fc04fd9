using Akka.Actor;
using Akka.Cluster;

namespace Akka.WriteBehind.Counters;

/// <summary>
/// INTERNAL API
/// <para>
/// One flush-all across the cluster: asks the flush-all actor of every member that is up (each hosts the set's region) to
/// flush its node's keys, and answers <see cref="AllCountersFlushed"/> once every member has, or
/// <see cref="FlushAllFailed"/> with the first failure or, at the deadline, naming the members that did not answer. Then stops.
/// </para>
/// </summary>
internal sealed class CounterClusterFlushActor : UntypedActor, IWithTimers
{
    private readonly string _actorName;
    private readonly TimeSpan _timeout;
    private readonly IActorRef _replyTo;
    private readonly HashSet<string> _waitingFor = new(StringComparer.Ordinal);
    private long _keys;
    private int _nodes;

    public CounterClusterFlushActor(string actorName, TimeSpan timeout, IActorRef replyTo)
    {
        _actorName = actorName;
        _timeout = timeout;
        _replyTo = replyTo;
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(string actorName, TimeSpan timeout, IActorRef replyTo) =>
        Akka.Actor.Props.Create(() => new CounterClusterFlushActor(actorName, timeout, replyTo));

    protected override void PreStart()
    {
        var members = Cluster.Cluster.Get(Context.System).State.Members
            .Where(m => m.Status is MemberStatus.Up or MemberStatus.WeaklyUp)
            .ToList();
        if (members.Count == 0)
        {
            Finish(new FlushAllFailed(ErrorCode.Timeout, "this node sees no cluster member up"));
            return;
        }

        // each member's own flush is given a little less time, so that its failure, naming a key, arrives before our deadline
        var nodeTimeout = _timeout * 0.9;
        foreach (var member in members)
        {
            var node = member.Address.ToString();
            _waitingFor.Add(node);
            Context.ActorSelection(new RootActorPath(member.Address) / "user" / _actorName).Tell(new FlushNodeCounters(node, nodeTimeout));
        }

        Timers.StartSingleTimer(Deadline.Instance, Deadline.Instance, _timeout);
    }

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case NodeCountersFlushed flushed when _waitingFor.Remove(flushed.Node):
                _keys += flushed.Keys;
                _nodes++;
                if (_waitingFor.Count == 0)
                    Finish(new AllCountersFlushed(_keys, _nodes));
                break;
            case NodeCountersFlushFailed failed when _waitingFor.Contains(failed.Node):
                Finish(new FlushAllFailed(failed.Code, $"node {failed.Node}: {failed.Message}"));
                break;
            case Deadline:
                Finish(new FlushAllFailed(ErrorCode.Timeout,
                    $"no answer within {_timeout} from {_waitingFor.Count} of {_waitingFor.Count + _nodes} members ({string.Join(", ", _waitingFor.Take(3))})"));
                break;
            case NodeCountersFlushed or NodeCountersFlushFailed:
                break; // an answer after the outcome
            default:
                Unhandled(message);
                break;
        }
    }

    private void Finish(IFlushAllReply reply)
    {
        _replyTo.Tell(reply);
        Context.Stop(Self);
    }

    private sealed class Deadline
    {
        public static readonly Deadline Instance = new();

        private Deadline()
        {
        }
    }
}
