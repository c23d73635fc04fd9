using System.Collections.Immutable;
using Akka.Actor;
using Akka.Event;
using Akka.WriteBehind.Internal;
using Akka.WriteBehind.Queues;

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
/// the entities (each entity confirms a message when it takes it).
/// </para>
/// <para>
/// Beyond that, commands wait in one queue per key (the lytics/inflight OpQueue): at most <c>ingest.max-pending</c> per key
/// (width), at most <c>ingest.max-active-keys</c> keys (depth) and <c>ingest.buffer-size</c> commands in all; beyond any of
/// them the sender is refused at once with <see cref="ErrorCode.Saturated"/> carrying a <see cref="QueueSaturated"/>. Keys
/// take their turn in the order they got queued work, and a key's turn hands its whole queue to the entity as one
/// <see cref="CounterCommandSet"/>, in arrival order. Order per sender and key is kept, so read-your-writes holds for
/// callers that go through this stage.
/// </para>
/// </summary>
internal sealed class CounterIngestActor : UntypedActor, IWithTimers
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly IActorRef _region;
    private readonly CounterSettings _settings;
    private readonly QueueLedger _queueLedger;
    private readonly Dictionary<string, List<QueuedCounterCommand>> _queues = new(StringComparer.Ordinal); // keys with queued work
    private readonly Queue<string> _turns = new();  // those keys, in the order they got queued work
    private readonly Dictionary<long, (long Deadline, string Key, int Count)> _outstanding = new(); // id -> deadline (Environment.TickCount64)
    private readonly List<IActorRef> _drainWaiters = new();
    private int _queued;
    private long _nextId;
    private readonly CounterFastPath _fastPath;
    private readonly Action<string, CounterFastPath.Aggregate> _admitAggregate;
    private readonly Func<CounterFastPath.Cell, bool> _aggregateInFlight;
    private readonly Func<bool> _mayStart;
    // per key: its route, its aggregates sent and not answered, whether a routed one is on its way
    private readonly IngestKeyStates _keys = new();
    private bool _fastRestored; // the last drain put aggregates back (a queue bound was reached): a fact about the fast path's
                                // buffer that a drain sets and the drain-complete check reads, not a mode of the stage
    private readonly CounterLiveEntities _live;
    private readonly CounterLedger _ledger;
    private long _headroom;     // aggregates the current timed drain may still hand on (the live-entity bound)

    // journal durability: keys whose entity opened a route through its shard log (this node's logs only); a timed drain sends
    // their aggregates to the log, one message per log, and the log answers once for all of them after its persist
    private readonly Action<string, CounterFastPath.Aggregate> _routeAggregate;
    private readonly HashSet<IActorRef> _routeLogs = new(ActorRefComparer.Instance); // watched
    // the current drain's, per log: kept from drain to drain, so that their lists grow once, not per batch
    private readonly Dictionary<IActorRef, BatchBuilder> _batching = new(ActorRefComparer.Instance);
    private bool _batchingAny;
    private readonly Dictionary<long, RoutedBatch> _routedOut = new();         // sent, not answered
    private int _routedWaiting;                                                 // of those, not in an event being written yet
    // commands for those keys wait here until it is answered: their entity then holds the routed delta (read-your-writes)
    private readonly Dictionary<string, List<QueuedCounterCommand>> _held = new(StringComparer.Ordinal);
    private long _nextBatchId;

    private readonly KeyValuePair<string, object?> _tag;

    public CounterIngestActor(IActorRef region, CounterSettings settings, CounterLedger ledger, QueueLedger queueLedger, CounterFastPath fastPath)
    {
        _region = region;
        _fastPath = fastPath;
        _admitAggregate = AdmitAggregate;
        _routeAggregate = RouteAggregate;
        _live = ledger.Live;
        _ledger = ledger;
        _aggregateInFlight = _keys.InFlight;
        _mayStart = () => _headroom-- > 0;
        _settings = settings;
        _queueLedger = queueLedger;
        _tag = ledger.Tag;
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(IActorRef region, CounterSettings settings, CounterLedger ledger, QueueLedger queueLedger, CounterFastPath fastPath) =>
        Akka.Actor.Props.Create(() => new CounterIngestActor(region, settings, ledger, queueLedger, fastPath));

    protected override void PreStart()
    {
        var sweep = TimeSpan.FromTicks(Math.Max(_settings.Ingest.ConfirmTimeout.Ticks / 2, TimeSpan.TicksPerMillisecond));
        Timers.StartPeriodicTimer(SweepOutstanding.Instance, SweepOutstanding.Instance, sweep);
        ArmDrainTick();
    }

    // The behaviours are switch statements (UntypedActor), not ReceiveActor handler lists: every counter message and every
    // fast-path aggregate passes through this stage, and a switch matches without a delegate call or allocation per message.

    protected override void OnReceive(object message) => Accepting(message);

    /// <summary>The node runs: commands are admitted, the fast path's aggregates drain on its window and when woken.</summary>
    private void Accepting(object message)
    {
        switch (message)
        {
            case ICounterCommand command when command.Key is not null && _keys.IsRouted(command.Key):
                Hold(command, Sender);
                break;
            case ICounterCommand command:
                Take(command, Sender);
                break;
            case RouteOpened opened:
                _keys.OpenRoute(opened.Key, Sender, opened.Route);
                if (_routeLogs.Add(Sender))
                    Context.Watch(Sender);
                break;
            // a woken drain leaves the timed one's cadence alone: rescheduling the timer at every wake-up was work per drain
            case DrainAggregatesNow:
                if (!RoutedBatchesWaiting)
                    DrainAggregates(AggregateDrain.Woken);
                break;
            case RoutedPersisting persisting:
                RoutedBatchPersisting(persisting.BatchId);
                DrainIfDeferred();
                break;
            case RoutedAnswers answers:
                RoutedAnswered(answers);
                Release();
                DrainIfDeferred(); // a batch answered without an event never said it was persisting
                break;
            case DrainAggregatesTick:
                DrainAggregates(AggregateDrain.Timed);
                ArmDrainTick();
                break;
            default:
                Common(message);
                break;
        }
    }

    /// <summary>
    /// The node shuts down: new commands are refused, what is queued and every aggregate goes on (no holding back), and the
    /// stage answers <see cref="CounterIngestDrained"/> once nothing is queued or unconfirmed.
    /// </summary>
    private void Draining(object message)
    {
        switch (message)
        {
            case ICounterCommand command when command.Key is not null && _keys.IsRouted(command.Key):
                Hold(command, Sender);
                break;
            case ICounterCommand command:
                TakeWhileDraining(command, Sender);
                break;
            case RouteOpened:
                break; // a draining stage routes nothing more
            case DrainAggregatesNow:
                break; // the ticks drain everything now
            case DrainAggregatesTick:
                DrainAggregates(AggregateDrain.Everything);
                ArmDrainTick();
                Release();
                break;
            default:
                Common(message);
                break;
        }
    }

    /// <summary>What the stage does alike whether it accepts or drains.</summary>
    private void Common(object message)
    {
        switch (message)
        {
            case CounterEnvelopeTaken taken:
                if (_outstanding.Remove(taken.Id))
                    Release();
                break;
            case SweepOutstanding:
                ReleaseExpired();
                break;
            case IncrementAccepted accepted:
                AggregateAccepted(accepted);
                break;
            case CounterRejected rejected:
                AggregateRejected(rejected);
                break;
            case AggregateAnswered answered:
                // the answer first, as when it came apart from its confirmation: a refusal may put the aggregate back
                if (answered.Answer is IncrementAccepted answer)
                    AggregateAccepted(answer);
                else if (answered.Answer is CounterRejected refusal)
                    AggregateRejected(refusal);
                if (_outstanding.Remove(answered.Id))
                    Release();
                break;
            case RoutedPersisting persisting:
                RoutedBatchPersisting(persisting.BatchId);
                break;
            case RoutedAnswers answers:
                RoutedAnswered(answers);
                Release();
                break;
            case RouteClosed closed:
                _keys.CloseRoute(closed.Key, Sender);
                break;
            case Terminated terminated when _routeLogs.Remove(terminated.ActorRef):
                RouteLogStopped(terminated.ActorRef);
                Release();
                break;
            case Terminated:
                break; // a log already forgotten
            case ListIngestKeys:
                // flush-all: every key this stage holds work for; the flushes that follow drain each key's aggregate first
                Sender.Tell(new IngestKeys(_fastPath.BufferedKeys()
                    .Concat(_keys.KeysInFlight).Concat(_queues.Keys).Concat(_outstanding.Values.Select(v => v.Key))
                    .Distinct(StringComparer.Ordinal).ToImmutableArray()));
                break;
            case DrainCounterIngest:
                Drain();
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    /// <summary>A command as the accepting stage takes it.</summary>
    private void Take(ICounterCommand command, IActorRef sender)
    {
        // per-key order and read-your-writes with the fast path: its buffered aggregate of this key goes first
        if (command.Key is not null)
            _fastPath.Drain(command.Key, _admitAggregate);
        if (!KeyRules.TryValidate(command.Key, out var error))
        {
            Refuse(command, sender, ErrorCode.InvalidKey, error!);
            return;
        }

        Admit(command, sender);
    }

    /// <summary>A command as the draining stage takes it: refused, after its key's buffered aggregate goes on.</summary>
    private void TakeWhileDraining(ICounterCommand command, IActorRef sender)
    {
        if (command.Key is not null)
            _fastPath.Drain(command.Key, _admitAggregate);
        Refuse(command, sender, ErrorCode.ShuttingDown, "the node is shutting down");
    }

    /// <summary>A command for a key whose routed aggregate is on its way waits for its answer (bounded like a key's queue).</summary>
    private void Hold(ICounterCommand command, IActorRef sender)
    {
        if (!_held.TryGetValue(command.Key, out var held))
            _held[command.Key] = held = new List<QueuedCounterCommand>();
        if (held.Count >= _settings.Ingest.MaxPending)
        {
            Saturated(command, sender, QueueLimit.Width, held.Count, _settings.Ingest.MaxPending);
            return;
        }

        held.Add(new QueuedCounterCommand(command, sender));
    }

    /// <summary>The routed aggregate of <paramref name="key"/> is answered: its held commands go on, in order.</summary>
    private void ReleaseHeld(string key)
    {
        _keys.RouteAnswered(key);
        ReleaseHeldCommands(key);
    }

    /// <summary>Hands on the commands held for <paramref name="key"/>, once its routed aggregate is answered.</summary>
    private void ReleaseHeldCommands(string key)
    {
        if (_held.Count == 0 || !_held.Remove(key, out var held))
            return;
        var draining = _drainWaiters.Count > 0; // only a draining stage has waiters
        foreach (var queued in held)
        {
            if (draining)
                TakeWhileDraining(queued.Command, queued.ReplyTo);
            else
                Take(queued.Command, queued.ReplyTo);
        }
    }

    /// <summary>
    /// The timed drains' hand-on: a routed key's aggregate joins its log's batch for this drain, any other goes to its entity
    /// (<see cref="AdmitAggregate"/>). Aggregates with request ids always go to the entity, which remembers the ids.
    /// </summary>
    private void RouteAggregate(string key, CounterFastPath.Aggregate aggregate)
    {
        if (aggregate.Requests is not null || aggregate.Sum == 0 || !_keys.TryRoute(key, aggregate, out var log, out var entry, out var route))
        {
            AdmitAggregate(key, aggregate);
            return;
        }

        if (!_batching.TryGetValue(log, out var batch))
            _batching[log] = batch = new BatchBuilder();
        batch.Keys.Add(key);
        batch.Entries.Add(entry);
        batch.Routes.Add(route);
        batch.Deltas.Add(aggregate.Sum);
        batch.Increments.Add(aggregate.Count);
        _batchingAny = true;
    }

    /// <summary>Sends each log the batch of this drain.</summary>
    private void SendRouted()
    {
        if (!_batchingAny)
            return;
        _batchingAny = false;
        foreach (var (log, builder) in _batching)
        {
            if (builder.Keys.Count == 0)
                continue;
            var id = ++_nextBatchId;
            var keys = builder.Keys.ToArray();
            _routedOut[id] = new RoutedBatch(log, keys, builder.Entries.ToArray());
            _routedWaiting++;
            log.Tell(new RoutedIncrements(id, keys, builder.Deltas.ToArray(), builder.Increments.ToArray()) { Routes = builder.Routes.ToArray() });
            builder.Clear();
        }
    }

    private void RoutedAnswered(RoutedAnswers answers)
    {
        if (!_routedOut.Remove(answers.BatchId, out var batch))
            return;
        if (!batch.Persisting)
            _routedWaiting--; // answered without an event: nothing of it was taken
        long routed = 0;
        for (var i = 0; i < batch.Keys.Length; i++)
        {
            var key = batch.Keys[i];
            var outcome = answers.Outcomes[i];
            switch (outcome.Kind)
            {
                case RoutedOutcomeKind.Accepted:
                    if (AnsweredAggregate(key, batch.Entries[i]) is { } aggregate)
                    {
                        _fastPath.Delivered(key, aggregate);
                        routed += aggregate.Count;
                    }

                    ReleaseHeldCommands(key);
                    break;
                case RoutedOutcomeKind.NotRouted:
                    _keys.CloseRoute(key, batch.Log);
                    Readmit(key);
                    ReleaseHeld(key);
                    break;
                default:
                    AggregateRejected(new CounterRejected(key, outcome.Code, outcome.Message ?? outcome.Code.ToString()));
                    ReleaseHeld(key);
                    break;
            }
        }

        _ledger.Routed(routed);
        // counted here, as acknowledged: their entity takes them from its route's inbox only at its next flush
        if (routed > 0)
            CounterMetrics.Increments.Add(routed, _tag);
    }

    /// <summary>Drains now if an increment asked for a drain while the logs still held a batch (the fast path asks no more meanwhile).</summary>
    private void DrainIfDeferred()
    {
        if (_fastPath.WakeRequested && !RoutedBatchesWaiting)
            DrainAggregates(AggregateDrain.Woken);
    }

    /// <summary>The log writes batch <paramref name="batchId"/> in its current event: it no longer holds back a drain.</summary>
    private void RoutedBatchPersisting(long batchId)
    {
        if (_routedOut.TryGetValue(batchId, out var batch) && !batch.Persisting)
        {
            batch.Persisting = true;
            _routedWaiting--;
        }
    }

    /// <summary>A routed aggregate the log did not take goes to its entity, still the key's one aggregate in flight.</summary>
    private void Readmit(string key)
    {
        if (!_keys.TryTake(key, out var aggregate, out _))
            return;
        if (TryAdmit(aggregate.ToCommand(key), Self) is null)
        {
            _keys.Add(key, aggregate);
            return;
        }

        _fastPath.Restore(key, aggregate);
        _fastRestored = true;
    }

    /// <summary>
    /// A shard log stopped (it answers what it took before it stops, so this is a crash): its routes are gone, and the
    /// aggregates it did not answer are refused as when a key's own log write fails (they may or may not be in the journal).
    /// </summary>
    private void RouteLogStopped(IActorRef log)
    {
        _keys.CloseRoutesOf(log);
        _batching.Remove(log);
        foreach (var (id, batch) in _routedOut.Where(b => b.Value.Log.Equals(log)).ToList())
        {
            _routedOut.Remove(id);
            if (!batch.Persisting)
                _routedWaiting--;
            foreach (var key in batch.Keys)
            {
                AggregateRejected(new CounterRejected(key, ErrorCode.StoreFailure, "journal write failed or the shard log stopped"));
                ReleaseHeld(key);
            }
        }
    }

    private void ReleaseExpired()
    {
        var now = Environment.TickCount64;
        var expired = _outstanding.Where(kv => kv.Value.Deadline <= now).Select(kv => kv.Key).ToList();
        if (expired.Count == 0)
            return;
        var examples = string.Join(", ", expired.Take(3).Select(id => $"[{_outstanding[id].Key}] x{_outstanding[id].Count}"));
        foreach (var id in expired)
            _outstanding.Remove(id);
        _log.Warning("{0} counter messages were not confirmed by their entities within {1} (e.g. {2}); releasing their slots",
            expired.Count, _settings.Ingest.ConfirmTimeout, examples);
        Release();
    }

    private void AggregateAccepted(IncrementAccepted accepted)
    {
        if (AnsweredAggregate(accepted.Key) is { } aggregate)
            _fastPath.Delivered(accepted.Key, aggregate, accepted);
    }

    private void AggregateRejected(CounterRejected rejected)
    {
        if (AnsweredAggregate(rejected.Key) is not { } aggregate)
            return;
        if (rejected.Code == ErrorCode.Saturated)
        {
            // the entity could not take it (still loading, buffer full): back to the fast path, retried next window
            _fastPath.Restore(rejected.Key, aggregate);
            _fastRestored = true;
            return;
        }

        // callers of IncrementAsync hear the refusal themselves; a log line is for the fire-and-forget ones nobody tells
        if (aggregate.WaiterCount() < aggregate.Count)
            _log.Warning("Counter [{0}] refused a fast-path aggregate of {1} increments (delta {2}): {3} {4}",
                rejected.Key, aggregate.Count, aggregate.Sum, rejected.Code, rejected.Message);
        _fastPath.Refuse(rejected.Key, aggregate, rejected.Code, rejected.Message);
    }

    /// <summary>Also when already draining: a second asker is answered with the first, the drain restarts its window.</summary>
    private void Drain()
    {
        // the fast path's aggregates first: no new ones from now on, every buffered one into the queues (to the entities: a
        // draining stage routes nothing more)
        _fastPath.Close();
        _keys.CloseRoutes();
        DrainAggregates(AggregateDrain.Everything);
        ArmDrainTick(); // a drain restarts the window (the ticks go on while the stage drains)
        if (_outstanding.Count > 0 || _queued > 0)
            _log.Info("Draining counter ingest: {0} in flight (e.g. {1}), {2} queued on {3} keys", _outstanding.Count,
                string.Join(", ", _outstanding.Values.Take(3).Select(v => v.Key)), _queued, _queues.Count);
        Become(Draining);
        _drainWaiters.Add(Sender);
        Release();
    }

    private void Admit(ICounterCommand command, IActorRef replyTo)
    {
        if (TryAdmit(command, replyTo) is { } full)
            Saturated(command, replyTo, full.Limit, full.Size, full.Max);
    }

    /// <returns><c>null</c> when admitted; otherwise the bound that is reached (nothing was changed).</returns>
    private (QueueLimit Limit, int Size, int Max)? TryAdmit(ICounterCommand command, IActorRef replyTo)
    {
        var key = command.Key;
        if (_queues.TryGetValue(key, out var queue))
        {
            // the key already waits for its turn: the command joins its set (behind the earlier ones)
            if (queue.Count >= _settings.Ingest.MaxPending)
                return (QueueLimit.Width, queue.Count, _settings.Ingest.MaxPending);
            if (_queued >= _settings.Ingest.BufferSize)
                return (QueueLimit.Total, _queued, _settings.Ingest.BufferSize);
            Enqueue(queue, command, replyTo);
            return null;
        }

        if (_turns.Count == 0 && _outstanding.Count < _settings.Ingest.MaxOutstanding)
        {
            // nothing of this key waits here: straight on (the region keeps this stage's order per key)
            Track(key, 1);
            _region.Tell(new CounterEnvelope(command, replyTo, _nextId));
            return null;
        }

        if (_queues.Count >= _settings.Ingest.MaxActiveKeys)
            return (QueueLimit.Depth, _queues.Count, _settings.Ingest.MaxActiveKeys);
        if (_queued >= _settings.Ingest.BufferSize)
            return (QueueLimit.Total, _queued, _settings.Ingest.BufferSize);

        queue = new List<QueuedCounterCommand>();
        _queues[key] = queue;
        _turns.Enqueue(key);
        _queueLedger.ActiveKeysAre(_queues.Count);
        Enqueue(queue, command, replyTo);
        return null;
    }

    // ---------------------------------------------------------------- the fast path's aggregates

    /// <summary>
    /// Hands one buffered aggregate to the flow-controlled path as an <see cref="Increment"/> answered to this stage. When a
    /// queue bound is reached it goes back to the fast path (retried next window): never refused for saturation, never dropped.
    /// </summary>
    private void AdmitAggregate(string key, CounterFastPath.Aggregate aggregate)
    {
        if (_keys.IsRouted(key))
        {
            // the shutdown drain: the key's routed aggregate is still on its way, and the key's aggregates are answered in order
            _fastPath.Restore(key, aggregate);
            _fastRestored = true;
            return;
        }

        if (aggregate.Sum == 0 && aggregate.Requests is null)
        {
            _fastPath.Delivered(key, aggregate); // nets out: nothing to add (request ids still go, so that repeats are known)
            return;
        }

        if (TryAdmit(aggregate.ToCommand(key), Self) is not null)
        {
            _fastPath.Restore(key, aggregate);
            _fastRestored = true;
            return;
        }

        _keys.Add(key, aggregate);
    }

    /// <summary>
    /// Hands the buffered aggregates to the flow-controlled path. In a woken or timed drain a key whose previous aggregate is
    /// not answered yet keeps its aggregate for a later drain: at most one fast-path message per key is in flight, and while
    /// the entities lag the aggregates grow instead of the messages (fewer, larger messages under load). Beyond the node's
    /// live-entity headroom (<see cref="CounterLiveEntities.Headroom"/>) keys keep their aggregates too. Reads and other
    /// commands for a key still drain it at once (read-your-writes), and so does the shutdown drain
    /// (<see cref="AggregateDrain.Everything"/>). Only timed drains retire idle cells.
    /// </summary>
    private void DrainAggregates(AggregateDrain drain)
    {
        _fastRestored = false;
        // aggregates sent and not answered yet may each be starting an entity: they count against the headroom too
        _headroom = _live.Headroom - _keys.InFlightKeys;
        if (drain == AggregateDrain.Everything)
        {
            _fastPath.DrainAll(_admitAggregate);
            return;
        }

        _fastPath.DrainReady(_routeAggregate, _aggregateInFlight, _mayStart, timed: drain == AggregateDrain.Timed);
        SendRouted();
    }

    /// <summary>
    /// Whether batches sent to the logs still wait for their events (one per log the stage routes to, counted together): a
    /// woken drain then waits until a log starts writing one (<see cref="RoutedPersisting"/>). A log puts whatever arrives
    /// while it writes into its next event, so waiting until then delays no increment beyond the event it would have joined,
    /// and a drain per wake-up was a batch and an answer for every two or three increments under load. The timed drains go
    /// on as before.
    /// </summary>
    private bool RoutedBatchesWaiting => _routedWaiting >= Math.Max(1, _routeLogs.Count);

    /// <summary>Single-shot, re-armed after each timed drain: a busy stage drains less often and the aggregates grow instead.</summary>
    private void ArmDrainTick() =>
        Timers.StartSingleTimer(DrainAggregatesTick.Instance, DrainAggregatesTick.Instance, _settings.Ingest.AggregateWindow);

    /// <summary>
    /// The entity's or log's answer to an aggregate: answers of one key come in the order the aggregates were sent.
    /// <paramref name="routed"/>: a log's answer, with the key's entry kept since the aggregate was routed; it also ends the
    /// key's routed aggregate on its way.
    /// </summary>
    private CounterFastPath.Aggregate? AnsweredAggregate(string key, IngestKeyStates.KeyState? routed = null)
    {
        CounterFastPath.Aggregate aggregate;
        bool wasLast;
        var taken = routed is null
            ? _keys.TryTake(key, out aggregate, out wasLast)
            : _keys.TryTake(routed, key, out aggregate, out wasLast, routeAnswered: true);
        if (!taken)
            return null;
        if (wasLast)
            _fastPath.Requeue(key, aggregate.Source); // what grew while it was in flight goes with the next drain
        return aggregate;
    }

    private void Enqueue(List<QueuedCounterCommand> queue, ICounterCommand command, IActorRef replyTo)
    {
        queue.Add(new QueuedCounterCommand(command, replyTo));
        _queued++;
        _queueLedger.QueuedChanged(1);
        _queueLedger.WidthIs(queue.Count);
    }

    /// <summary>Registers a message to the region as outstanding (its id is <c>_nextId</c> afterwards).</summary>
    private void Track(string key, int count)
    {
        var id = ++_nextId;
        _outstanding[id] = (Environment.TickCount64 + (long)_settings.Ingest.ConfirmTimeout.TotalMilliseconds, key, count);
    }

    private void Release()
    {
        while (_turns.Count > 0 && _outstanding.Count < _settings.Ingest.MaxOutstanding)
        {
            var key = _turns.Dequeue();
            var queue = _queues[key];
            _queues.Remove(key);
            _queued -= queue.Count;
            _queueLedger.QueuedChanged(-queue.Count);
            Track(key, queue.Count);
            _region.Tell(queue.Count == 1
                ? new CounterEnvelope(queue[0].Command, queue[0].ReplyTo, _nextId)
                : new CounterCommandSet(key, queue.ToImmutableArray(), _nextId));
        }

        _queueLedger.ActiveKeysAre(_queues.Count);

        // only a draining stage has waiters
        if (_drainWaiters.Count > 0 && _queued == 0 && _outstanding.Count == 0 && _routedOut.Count == 0 && !_fastRestored)
        {
            foreach (var waiter in _drainWaiters)
                waiter.Tell(CounterIngestDrained.Instance);
            _drainWaiters.Clear();
        }
    }

    private void Saturated(ICounterCommand command, IActorRef replyTo, QueueLimit limit, int size, int max)
    {
        var saturation = _queueLedger.Saturated(command.Key, limit, size, max);
        Refuse(command, replyTo, ErrorCode.Saturated, saturation.Describe(), saturation);
    }

    private void Refuse(ICounterCommand command, IActorRef replyTo, ErrorCode code, string message, QueueSaturated? saturation = null)
    {
        CounterMetrics.Refusals.Add(1, _tag, new KeyValuePair<string, object?>("reason", code.ToString()));
        if (replyTo.CanReceiveReplies())
            replyTo.Tell(new CounterRejected(command.Key, code, message) { Saturation = saturation });
        else
            _log.Warning("Refused {0} ({1}): {2}", command, code, message);
    }

    /// <summary>A batch sent to <see cref="Log"/> and not answered yet: its keys, in the order the answer gives outcomes.</summary>
    private sealed class RoutedBatch(IActorRef log, string[] keys, IngestKeyStates.KeyState[] entries)
    {
        public IActorRef Log { get; } = log;

        public string[] Keys { get; } = keys;

        /// <summary>The keys' entries, found again at the answer without a lookup.</summary>
        public IngestKeyStates.KeyState[] Entries { get; } = entries;

        /// <summary>The log said the batch is in the event it is writing.</summary>
        public bool Persisting { get; set; }
    }

    /// <summary>The aggregates of the current drain for one log.</summary>
    private sealed class BatchBuilder
    {
        public List<string> Keys { get; } = new();

        public List<long> Deltas { get; } = new();

        public List<long> Increments { get; } = new();

        public List<IngestKeyStates.KeyState> Entries { get; } = new();

        public List<object?> Routes { get; } = new();

        public void Clear()
        {
            Keys.Clear();
            Entries.Clear();
            Routes.Clear();
            Deltas.Clear();
            Increments.Clear();
        }
    }

    /// <summary>What a drain of the fast path is for.</summary>
    private enum AggregateDrain
    {
        /// <summary>An awaited increment asked for it.</summary>
        Woken,

        /// <summary>The aggregate window's timer: also retires idle cells.</summary>
        Timed,

        /// <summary>The shutdown drain: every aggregate, nothing held back, nothing routed.</summary>
        Everything,
    }

    private sealed class DrainAggregatesTick
    {
        public static readonly DrainAggregatesTick Instance = new();

        private DrainAggregatesTick()
        {
        }
    }

    private sealed class SweepOutstanding
    {
        public static readonly SweepOutstanding Instance = new();

        private SweepOutstanding()
        {
        }
    }
}
