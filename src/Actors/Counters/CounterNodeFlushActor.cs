using Akka.Actor;

namespace Akka.WriteBehind.Counters;

/// <summary>
/// INTERNAL API
/// <para>
/// Flushes every key of one node that holds pending increments: the keys the ingest stage holds work for (fast-path
/// aggregates, queued and in-flight messages), then the keys with unstored events in the node's shard logs (a log
/// acknowledges a routed increment, or replays one after a restart, before the key's entity takes it), and then the keys the node's
/// <see cref="CounterLedger"/> knows unstored — an acknowledged increment is always in one of those places until it is
/// stored. Each key gets a <see cref="FlushCounter"/> through the
/// ingest stage, which hands the key's buffered aggregate to the entity first, so the flush covers it; at most
/// <c>flush-all.parallelism</c> are asked at once. Answers <see cref="NodeCountersFlushed"/>, or
/// <see cref="NodeCountersFlushFailed"/> with the first refusal or at the deadline. Then stops.
/// </para>
/// </summary>
internal sealed class CounterNodeFlushActor : UntypedActor, IWithTimers
{
    private readonly IActorRef _ingest;
    private readonly CounterLedger _ledger;
    private readonly int _parallelism;
    private readonly FlushNodeCounters _request;
    private readonly IActorRef _replyTo;
    private readonly Queue<string> _toFlush = new();
    private readonly HashSet<string> _flushing = new(StringComparer.Ordinal);
    private readonly HashSet<string> _keys = new(StringComparer.Ordinal);   // gathered before the flushes start
    private readonly HashSet<IActorRef> _logsToHear = new();
    private long _flushed;

    public CounterNodeFlushActor(IActorRef ingest, CounterLedger ledger, int parallelism, FlushNodeCounters request, IActorRef replyTo)
    {
        _ingest = ingest;
        _ledger = ledger;
        _parallelism = parallelism;
        _request = request;
        _replyTo = replyTo;
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(IActorRef ingest, CounterLedger ledger, int parallelism, FlushNodeCounters request, IActorRef replyTo) =>
        Akka.Actor.Props.Create(() => new CounterNodeFlushActor(ingest, ledger, parallelism, request, replyTo));

    protected override void PreStart()
    {
        // the deadline runs before anything goes out: whoever sees the request knows the deadline is counting
        Timers.StartSingleTimer(Deadline.Instance, Deadline.Instance, _request.Timeout);
        _ingest.Tell(ListIngestKeys.Instance);
    }

    /// <summary>Waits for the ingest stage's keys.</summary>
    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case IngestKeys ingestKeys:
                _keys.UnionWith(ingestKeys.Keys);
                foreach (var log in _ledger.Logs)
                {
                    // asked after the ingest answered: a routed increment it saw acknowledged is in its log's list by then
                    Context.Watch(log);
                    log.Tell(ListUnstoredKeys.Instance);
                    _logsToHear.Add(log);
                }

                if (_logsToHear.Count == 0)
                    StartFlushing();
                else
                    Become(HearingLogs);
                break;
            default:
                Common(message);
                break;
        }
    }

    /// <summary>Waits for each shard log's keys with unstored events.</summary>
    private void HearingLogs(object message)
    {
        switch (message)
        {
            case UnstoredKeys unstored when _logsToHear.Remove(Sender):
                Context.Unwatch(Sender);
                _keys.UnionWith(unstored.Keys);
                if (_logsToHear.Count == 0)
                    StartFlushing();
                break;
            case Terminated terminated when _logsToHear.Remove(terminated.ActorRef):
                // a log that stopped on a hand-off had its counters store first; after a crash its next incarnation
                // replays what is unstored, which no flush here can reach
                if (_logsToHear.Count == 0)
                    StartFlushing();
                break;
            default:
                Common(message);
                break;
        }
    }

    /// <summary>Flushes the keys, at most <c>parallelism</c> at once, until every one is answered.</summary>
    private void Flushing(object message)
    {
        switch (message)
        {
            case CounterFlushed flushed when _flushing.Remove(flushed.Key):
                _flushed++;
                SendMore();
                break;
            case CounterRejected rejected when _flushing.Contains(rejected.Key):
                Finish(new NodeCountersFlushFailed(_request.Node, rejected.Code, $"counter [{rejected.Key}]: {rejected.Message}"));
                break;
            default:
                Common(message);
                break;
        }
    }

    private void Common(object message)
    {
        switch (message)
        {
            case Deadline:
                var example = _flushing.Concat(_toFlush).Concat(_keys).FirstOrDefault();
                var waiting = _logsToHear.Count > 0 ? $"; {_logsToHear.Count} shard logs did not list their keys" : "";
                Finish(new NodeCountersFlushFailed(_request.Node, ErrorCode.Timeout,
                    $"{_flushing.Count + _toFlush.Count + _keys.Count} keys not flushed within {_request.Timeout} (e.g. [{example}]){waiting}"));
                break;
            case ICounterReply or UnstoredKeys or Terminated:
                break; // a late answer
            default:
                Unhandled(message);
                break;
        }
    }

    private void StartFlushing()
    {
        // the ledger is read last: a key that left the ingest stage before is at its entity by now, and the entity marks
        // it unstored before it acknowledges anything (a routed key's log listed it above)
        _keys.UnionWith(_ledger.DirtyKeys);
        foreach (var key in _keys)
            _toFlush.Enqueue(key);
        _keys.Clear();
        Become(Flushing);
        SendMore();
    }

    private void SendMore()
    {
        while (_flushing.Count < _parallelism && _toFlush.TryDequeue(out var key))
        {
            if (_flushing.Add(key))
                _ingest.Tell(new FlushCounter(key));
        }

        if (_flushing.Count == 0 && _toFlush.Count == 0)
            Finish(new NodeCountersFlushed(_request.Node, _flushed));
    }

    private void Finish(object reply)
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
