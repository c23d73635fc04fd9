using Akka.Actor;
using Akka.Event;
using Akka.WriteBehind.Internal;

namespace Akka.WriteBehind.Counters;

/// <summary>INTERNAL API: asks the ingest stage to hand every queued message to its entity, then refuse new ones.</summary>
internal sealed class DrainCounterIngest
{
    public static readonly DrainCounterIngest Instance = new();

    private DrainCounterIngest()
    {
    }
}

/// <summary>INTERNAL API: the ingest stage is empty and refuses new messages.</summary>
internal sealed class CounterIngestDrained
{
    public static readonly CounterIngestDrained Instance = new();

    private CounterIngestDrained()
    {
    }
}

/// <summary>
/// INTERNAL API
/// <para>
/// The node-local entry point of a counter set (registered as <see cref="CounterRegion"/>). Akka's shard region buffers
/// messages while it resolves shard homes and drops them, with only a log line, once that buffer is full — which a burst on
/// new keys reaches. This stage validates keys, then keeps at most <c>ingest.max-outstanding</c> messages between itself and
/// the entities (each entity confirms a message when it takes it), queues up to <c>ingest.buffer-size</c> more in arrival
/// order, and refuses beyond that with <see cref="ErrorCode.Saturated"/>. Order per sender and key is kept, so
/// read-your-writes holds for callers that go through this stage.
/// </para>
/// </summary>
internal sealed class CounterIngestActor : ReceiveActor, IWithTimers
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly IActorRef _region;
    private readonly CounterSettings _settings;
    private readonly Queue<(ICounterCommand Command, IActorRef ReplyTo)> _queue = new();
    private readonly Dictionary<long, (long Deadline, ICounterCommand Command)> _outstanding = new(); // id -> deadline (Environment.TickCount64)
    private readonly List<IActorRef> _drainWaiters = new();
    private long _nextId;
    private bool _draining;

    private readonly KeyValuePair<string, object?> _tag;

    public CounterIngestActor(IActorRef region, CounterSettings settings, CounterLedger ledger)
    {
        _region = region;
        _settings = settings;
        _tag = ledger.Tag;

        Receive<ICounterCommand>(command =>
        {
            if (_draining)
            {
                Refuse(command, Sender, ErrorCode.ShuttingDown, "the node is shutting down");
                return;
            }

            if (!KeyRules.TryValidate(command.Key, out var error))
            {
                Refuse(command, Sender, ErrorCode.InvalidKey, error!);
                return;
            }

            if (_queue.Count == 0 && _outstanding.Count < _settings.IngestMaxOutstanding)
                Forward(command, Sender);
            else if (_queue.Count < _settings.IngestBufferSize)
                _queue.Enqueue((command, Sender));
            else
                Refuse(command, Sender, ErrorCode.Saturated,
                    $"ingest buffer is full ({_settings.IngestBufferSize} queued, {_outstanding.Count} in flight)");
        });

        Receive<CounterEnvelopeTaken>(taken =>
        {
            if (_outstanding.Remove(taken.Id))
                Release();
        });

        Receive<SweepOutstanding>(_ =>
        {
            var now = Environment.TickCount64;
            var expired = _outstanding.Where(kv => kv.Value.Deadline <= now).Select(kv => kv.Key).ToList();
            if (expired.Count == 0)
                return;
            var examples = string.Join(", ", expired.Take(3).Select(id => _outstanding[id].Command));
            foreach (var id in expired)
                _outstanding.Remove(id);
            _log.Warning("{0} counter messages were not confirmed by their entities within {1} (e.g. {2}); releasing their slots",
                expired.Count, _settings.IngestConfirmTimeout, examples);
            Release();
        });

        Receive<DrainCounterIngest>(_ =>
        {
            if (_outstanding.Count > 0 || _queue.Count > 0)
                _log.Info("Draining counter ingest: {0} in flight (e.g. {1}), {2} queued", _outstanding.Count,
                    string.Join(", ", _outstanding.Values.Take(3).Select(v => v.Command)), _queue.Count);
            _draining = true;
            _drainWaiters.Add(Sender);
            Release();
        });
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(IActorRef region, CounterSettings settings, CounterLedger ledger) =>
        Akka.Actor.Props.Create(() => new CounterIngestActor(region, settings, ledger));

    protected override void PreStart()
    {
        var sweep = TimeSpan.FromTicks(Math.Max(_settings.IngestConfirmTimeout.Ticks / 2, TimeSpan.TicksPerMillisecond));
        Timers.StartPeriodicTimer(SweepOutstanding.Instance, SweepOutstanding.Instance, sweep);
    }

    private void Forward(ICounterCommand command, IActorRef replyTo)
    {
        var id = ++_nextId;
        _outstanding[id] = (Environment.TickCount64 + (long)_settings.IngestConfirmTimeout.TotalMilliseconds, command);
        _region.Tell(new CounterEnvelope(command, replyTo, id));
    }

    private void Release()
    {
        while (_queue.Count > 0 && _outstanding.Count < _settings.IngestMaxOutstanding)
        {
            var (command, replyTo) = _queue.Dequeue();
            Forward(command, replyTo);
        }

        if (_draining && _queue.Count == 0 && _outstanding.Count == 0 && _drainWaiters.Count > 0)
        {
            foreach (var waiter in _drainWaiters)
                waiter.Tell(CounterIngestDrained.Instance);
            _drainWaiters.Clear();
        }
    }

    private void Refuse(ICounterCommand command, IActorRef replyTo, ErrorCode code, string message)
    {
        CounterMetrics.Refusals.Add(1, _tag, new KeyValuePair<string, object?>("reason", code.ToString()));
        if (replyTo.CanReceiveReplies())
            replyTo.Tell(new CounterRejected(command.Key, code, message));
        else
            _log.Warning("Refused {0} ({1}): {2}", command, code, message);
    }

    private sealed class SweepOutstanding
    {
        public static readonly SweepOutstanding Instance = new();

        private SweepOutstanding()
        {
        }
    }
}
