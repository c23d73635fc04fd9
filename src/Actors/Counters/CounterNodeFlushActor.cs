using Akka.Actor;

namespace Akka.WriteBehind.Counters;

/// <summary>
/// INTERNAL API
/// <para>
/// Flushes every key of one node that holds pending increments: the keys the ingest stage holds work for (fast-path
/// aggregates, queued and in-flight messages) and then the keys the node's <see cref="CounterLedger"/> knows unstored — an
/// increment is always in one of those places until it is stored. Each key gets a <see cref="FlushCounter"/> through the
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

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case IngestKeys ingestKeys:
                // the ledger is read after the ingest answered: a key that left the ingest before is at its entity by now,
                // and the entity marks it unstored before it acknowledges anything
                var keys = new HashSet<string>(ingestKeys.Keys, StringComparer.Ordinal);
                keys.UnionWith(_ledger.DirtyKeys);
                foreach (var key in keys)
                    _toFlush.Enqueue(key);
                SendMore();
                break;
            case CounterFlushed flushed when _flushing.Remove(flushed.Key):
                _flushed++;
                SendMore();
                break;
            case CounterRejected rejected when _flushing.Contains(rejected.Key):
                Finish(new NodeCountersFlushFailed(_request.Node, rejected.Code, $"counter [{rejected.Key}]: {rejected.Message}"));
                break;
            case Deadline:
                var example = _flushing.Concat(_toFlush).FirstOrDefault();
                Finish(new NodeCountersFlushFailed(_request.Node, ErrorCode.Timeout,
                    $"{_flushing.Count + _toFlush.Count} keys not flushed within {_request.Timeout} (e.g. [{example}])"));
                break;
            case ICounterReply:
                break; // a late answer
            default:
                Unhandled(message);
                break;
        }
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
