using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Event;
using Akka.WriteBehind.Internal;

namespace Akka.WriteBehind.Counters;

/// <summary>
/// INTERNAL API
/// <para>
/// The sharded entity of one counter key: the cluster's single writer for that key. On start it loads its row (value and
/// <c>applied_seq</c>) through the store writer, buffering commands meanwhile; then it accepts increments into a checked
/// pending sum, answers reads with stored + pending, and hands the pending delta to the store writer on a jittered timer.
/// One write is unconfirmed at a time; it carries a sequence number the row applies only once, so retrying it after a
/// failure or a time-out can never apply it twice. Increments that arrive meanwhile accumulate for the next write.
/// </para>
/// <para>
/// Durability <c>memory</c>: an increment is acknowledged once added to the pending sum; the write sequence number is the
/// row's <c>applied_seq</c> + 1. Durability <c>journal</c>: the entity attaches to its shard's log
/// (<see cref="ShardJournalActor"/>) after loading, taking the replayed events its row does not hold; increments are
/// grouped while one delta of the key is with the log, and acknowledged once the log's event holding them is persisted.
/// The write sequence number is the shard-log sequence number of the newest event in the write.
/// </para>
/// <para>Hand-off, passivation and CoordinatedShutdown deliver <see cref="StopCounter"/>: the entity flushes, then stops.</para>
/// </summary>
internal sealed class CounterActor : UntypedActor, IWithTimers, IWithStash
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly string _key;
    private readonly CounterSettings _settings;
    private readonly IActorRef _storeWriter;
    private readonly string _shardId;
    private readonly CounterLedger _ledger;
    private const string OthersAtDebugLevel = "; other counters' failures are logged at debug level until the store answers again";
    private CounterLedger.Entry? _ledgerEntry; // this key's entry in the ledger while it holds increments not stored
    private readonly KeyValuePair<string, object?> _tag;
    private CounterLiveEntities.Entity? _live; // this entity's place in the node's least-recently-used order
    private readonly CounterSums _sums = new(); // stored, in flight, pending: the numbers and their overflow check
    private long _writeStartedAt;   // Stopwatch timestamp of the write's first attempt, for the flush latency

    private long _lastSeq;          // row applied_seq as of the last confirmed write
    private WriteState _write;      // of the write (seq _writeSeq, delta _sums.InFlight) not confirmed yet, if any
    private long _writeSeq;
    private int _failures;
    private int _attachAttempts;    // journal mode: attaches to the shard log without an answer in a row
    private int _stashed;
    private readonly List<IActorRef> _waitingForInFlight = new();
    private readonly List<IActorRef> _waitingForPending = new();

    // request ids: counted ones (to leave repeats out), and those of the pending delta and of the write in flight, which the
    // row records in the write's transaction
    private CounterRequestMemory? _requestMemory;
    private List<RequestDelta>? _pendingRequests;
    private IReadOnlyList<CounterRequest>? _inFlightRequests;

    // what durability decides, chosen once: memory acknowledges an increment once it is in the pending sum, journal once its
    // shard log has persisted it, so a loaded journal counter first attaches to its log, and its writes carry log sequence numbers
    private readonly Action _afterLoad;
    private readonly Func<long, long, ImmutableArray<RequestDelta>, long, IActorRef, IActorRef?, long, bool> _accept;
    private readonly Func<long> _nextWriteSeq;

    // journal durability
    private IActorRef? _journal;             // the shard log while attached (null: not attached)
    private long _journaledUpTo;             // the newest shard-log event holding a delta of this key
    private readonly JournalGroups _groups;  // increments and reads on their way through the log
    private JournalGroups.Slot? _lastWaiting; // the increment last put in a group (a command set's slot is freed with it)
    private IncrementAccepted? _lastAccepted; // the answer last given to an accepted increment (see Accepted)

    // journal durability, the route through the shard log: this node's ingest stage sends the key's aggregates to the log,
    // which persists them and leaves their deltas in this entity's inbox, so an acknowledged increment costs no message to
    // and from this entity on its way, and a busy key one message per take from the inbox instead of one per event
    private IActorRef? _routeIngest;   // the ingest stage of the route offered or open (null: none)
    private long _routeId = Random.Shared.NextInt64(); // the number of the route last offered (random: no earlier route's answer matches it)
    private IActorRef? _routeCandidate; // this node's ingest stage, once it sent this entity an aggregate of its own
    private long _routeForcedClosedAt; // Stopwatch timestamp: the route last closed for another sender's increment (0: never)
    private CounterRouteInbox? _inbox; // created with the first route offered, and the same for every later one

    public CounterActor(string key, CounterSettings settings, IActorRef storeWriter, CounterLedger ledger, string shardId)
    {
        _key = key;
        _settings = settings;
        _storeWriter = storeWriter;
        _ledger = ledger;
        _shardId = shardId;
        _tag = ledger.Tag;
        _groups = new JournalGroups(settings.EntityBufferSize);
        var journal = settings.Durability == CounterDurability.Journal;
        _afterLoad = journal ? AttachToJournal : BecomeActive;
        _accept = journal ? Group : AcceptInMemory;
        _nextWriteSeq = journal ? () => _journaledUpTo : () => _lastSeq + 1;
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public IStash Stash { get; set; } = null!;

    public static Props Props(string key, CounterSettings settings, IActorRef storeWriter, CounterLedger ledger, string shardId) =>
        Akka.Actor.Props.Create(() => new CounterActor(key, settings, storeWriter, ledger, shardId));

    protected override void PreStart()
    {
        _live = _ledger.Live.Started(Self);
        RequestLoad();
    }

    /// <summary>
    /// The node's live-entity bound: commands make this entity the most recently used; an eviction passivates it. And the
    /// route's inbox: whatever its log left there is handled first, as if it had arrived just before this message, so every
    /// message finds every routed delta persisted before it was sent (as the log's own messages would have been).
    /// </summary>
    protected override bool AroundReceive(Receive receive, object message)
    {
        switch (message)
        {
            case EvictCounter:
                Context.Parent.Tell(new Passivate(StopCounter.Instance)); // the shard sends StopCounter: flush, then stop
                return true;
            case CounterEnvelope or CounterCommandSet or ICounterCommand or RoutedDeltaJournaled or RoutedInboxFilled when _live is not null:
                _ledger.Live.Touch(_live);
                break;
        }

        // taking a routed delta never changes the behaviour, so the one given for the message still holds; the inbox's own
        // signal only makes sure a flush comes, which takes it
        if (_inbox is not null && message is not RoutedInboxFilled && _inbox.TryTake(out var routed))
            base.AroundReceive(receive, routed);
        return base.AroundReceive(receive, message);
    }

    /// <summary>
    /// A counter that failed stops instead of going on as a new instance under the same reference: that instance would start
    /// from its row, while what its shard log counts as handed over (deltas the failed one held) is gone with the old one,
    /// and deltas still in the mailbox would come on top. The key's next counter attaches afresh and takes from its log every
    /// delta its row does not hold.
    /// </summary>
    protected override void PostRestart(Exception reason) => Context.Stop(Self);

    protected override void PostStop()
    {
        if (_live is not null)
            _ledger.Live.Stopped(_live);
        _ledger.Clean(_key, ref _ledgerEntry);
        if (_write != WriteState.Idle || _sums.Pending != 0)
            _log.Warning("Counter [{CounterKey}] stopped with {Unflushed} unflushed (in flight {InFlight}, pending {Pending}){Note}", _key, _sums.Unstored,
                _sums.InFlight, _sums.Pending,
                _settings.Durability == CounterDurability.Journal ? "; it is in the journal, and the key's next entity takes it from there" : "");
        if (!_groups.IsEmpty)
            _log.Warning("Counter [{CounterKey}] stopped with {Increments} increments not yet journaled; their callers were not acknowledged",
                _key, _groups.Persisting + _groups.Grouped);
    }

    // ---------------------------------------------------------------- states

    // Behaviours are switch statements (UntypedActor), not ReceiveActor handler lists: an entity is created per key, and
    // building two handler lists per activation was a measurable share of a key's first-touch cost.

    protected override void OnReceive(object message) => Loading(message);

    private void Loading(object message)
    {
        switch (message)
        {
            case CounterLoaded loaded:
                _sums.Loaded(loaded.Stored.Value);
                _lastSeq = loaded.Stored.AppliedSeq;
                _journaledUpTo = _lastSeq;
                _failures = 0;
                Timers.Cancel(LoadTimedOut.Instance);
                _afterLoad(); // journal durability: active once attached
                break;
            case CounterLoadFailed failed:
                LoadFailed(failed.Reason);
                break;
            case LoadTimedOut:
                LoadFailed($"no answer within {_settings.StoreWriter.WriteTimeout}");
                break;
            case RetryLoad:
                RequestLoad();
                break;
            case JournalAttached attached:
                Attached(attached, Sender);
                BecomeActive();
                break;
            case CounterEnvelope or CounterCommandSet or ICounterCommand:
                if (!StashBounded())
                    RefuseBusy(message);
                break;
            case RoutedInboxFilled:
                break; // a loading entity has offered no route yet, so no log fills its inbox
            case StopCounter or RoutedDeltaJournaled:
                // handled once loaded: buffered commands are applied and flushed first; a routed delta (the log hands this
                // entity one as soon as it asked to attach, while the answer may still wait for a journal read) is
                // acknowledged already, so it is never refused (the log hands on one per key and event)
                Stash.Stash();
                break;
            default:
                if (!JournalLifecycle(message))
                    Unhandled(message);
                break;
        }
    }

    private void BecomeActive()
    {
        Become(Active);
        _stashed = 0;
        Stash.UnstashAll();
        ArmFlushTimer();
    }

    private void Active(object message)
    {
        switch (message)
        {
            case CounterEnvelope or CounterCommandSet or ICounterCommand when _routeIngest is not null && IsForeignIncrement(message):
                CloseRouteFirst(message);
                break;
            case CounterEnvelope or CounterCommandSet or ICounterCommand:
                TakeCommand(message);
                break;
            case FlushTick:
                StartWrite();
                break;
            case CounterWritten written:
                if (!Written(written))
                    break;
                if (HasUnwritten() && _waitingForPending.Count > 0)
                    StartWrite();
                else
                    ArmFlushTimer();
                break;
            case CounterWriteFailed failed:
                if (_write == WriteState.Outstanding && failed.Seq == _writeSeq)
                    WriteFailed(failed.Reason);
                break;
            case WriteTimedOut:
                if (_write == WriteState.Outstanding)
                    WriteFailed($"no answer within {_settings.StoreWriter.WriteTimeout}");
                break;
            case RetryWrite:
                if (_write == WriteState.AwaitingRetry)
                {
                    CounterMetrics.FlushRetries.Add(1, _tag);
                    SendWrite();
                }

                break;
            case StopCounter:
                Become(Stopping);
                CloseRouteToStop();
                ContinueStop();
                break;

            // journal mode
            case DeltaJournaled persisted:
                Persisted(persisted);
                OfferRoute();
                break;
            case RoutedDeltaJournaled routed:
                RoutedPersisted(routed);
                break;
            case RoutedInboxFilled:
                ArmFlushTimerForInbox();
                break;
            case CounterRouteClosed closed:
                if (closed.RouteId == _routeId)
                    _routeIngest = null;
                break;
            case DeltaRejected rejected:
                PersistFailed(rejected.Reason);
                break;
            case JournalAttached attached:
                Attached(attached, Sender);
                TryPersist();
                ArmFlushTimer();
                break;
            default:
                if (!JournalLifecycle(message))
                    Unhandled(message);
                break;
        }
    }

    /// <summary>
    /// Handed off, passivated or shut down: as active, but it writes what is unwritten at once, acknowledges (or refuses)
    /// every increment waiting for its shard log, refuses them when that log is gone, and stops once nothing is left.
    /// </summary>
    private void Stopping(object message)
    {
        switch (message)
        {
            case CounterEnvelope or CounterCommandSet or ICounterCommand when _routeIngest is not null && IsForeignIncrement(message):
                // checked once every routed delta is here (the route is closing)
                if (!StashBounded())
                    RefuseBusy(message);
                break;
            case CounterEnvelope or CounterCommandSet or ICounterCommand:
                TakeCommand(message);
                RefuseGroupWithoutLog();
                break;
            case CounterWritten written:
                if (!Written(written))
                    break;
                if (HasUnwritten())
                    StartWrite();
                ContinueStop();
                break;
            case DeltaJournaled persisted:
                Persisted(persisted);
                ContinueStop();
                break;
            case RoutedDeltaJournaled routed:
                RoutedPersisted(routed);
                ContinueStop();
                break;
            case CounterRouteClosed closed:
                if (closed.RouteId != _routeId)
                    break;
                _routeIngest = null;
                Stash.UnstashAll();
                ContinueStop();
                break;
            case DeltaRejected or JournalAttached:
                Active(message);
                ContinueStop();
                break;
            case StopCounter:
                ContinueStop();
                break;
            case Terminated t when t.ActorRef.Equals(_journal):
                // the log is not attached again: what waits for it is refused, so that the stop can go on; its routes are gone
                _journal = null;
                _routeIngest = null;
                Stash.UnstashAll();
                PersistFailed("journal write failed or the shard log stopped");
                RefuseGroupWithoutLog();
                ContinueStop();
                break;
            default:
                Active(message);
                break;
        }
    }

    /// <summary>
    /// Active, with an increment from another sender waiting until the route through the shard log is closed: the log answers
    /// once every delta routed through it has been handed to this entity, so that the increment is checked against every one.
    /// Commands wait in the stash meanwhile; everything else is handled as when active.
    /// </summary>
    private void ClosingRoute(object message)
    {
        switch (message)
        {
            case CounterEnvelope or CounterCommandSet or ICounterCommand:
                if (!StashBounded())
                    RefuseBusy(message);
                break;
            case StopCounter:
                Stash.Stash();
                break;
            case CounterRouteClosed closed when closed.RouteId == _routeId:
                RouteClosedNow();
                break;
            case Terminated t when t.ActorRef.Equals(_journal):
                RouteClosedNow(); // the route died with its log
                JournalDied();
                break;
            default:
                Active(message);
                break;
        }
    }

    private void RouteClosedNow()
    {
        _routeIngest = null;
        Become(Active);
        _stashed = 0;
        Stash.UnstashAll();
    }

    /// <summary>A command as the active entity handles it.</summary>
    private void TakeCommand(object message)
    {
        switch (message)
        {
            case CounterEnvelope envelope:
                if (!Handle(envelope.Command, envelope.ReplyTo, Sender, envelope.Id))
                    Sender.Tell(new CounterEnvelopeTaken(envelope.Id));
                break;
            case CounterCommandSet set:
                HandleSet(set, Sender);
                break;
            case ICounterCommand command:
                Handle(command, Sender, null, 0);
                break;
        }
    }

    /// <summary>Refuses a command this entity cannot buffer now (loading, or waiting for its route to close).</summary>
    private void RefuseBusy(object message)
    {
        switch (message)
        {
            case CounterEnvelope envelope:
                Refuse(envelope.Command, envelope.ReplyTo, ErrorCode.Saturated, SaturatedMessage());
                Sender.Tell(new CounterEnvelopeTaken(envelope.Id)); // refused at once: free the ingest slot
                break;
            case CounterCommandSet set:
                foreach (var queued in set.Commands)
                    Refuse(queued.Command, queued.ReplyTo, ErrorCode.Saturated, SaturatedMessage());
                Sender.Tell(new CounterEnvelopeTaken(set.Id));
                break;
            case ICounterCommand command:
                Refuse(command, Sender, ErrorCode.Saturated, SaturatedMessage());
                break;
        }
    }

    /// <summary>
    /// Whether <paramref name="message"/> holds an increment that is not the route's ingest stage's own aggregate. Only those
    /// are sure to find every routed delta here already: the stage sends a key's next aggregate, routed or not, once the
    /// previous one is answered, and holds the key's other commands while a routed one is on its way.
    /// </summary>
    private bool IsForeignIncrement(object message) => message switch
    {
        CounterEnvelope envelope => IsIncrement(envelope.Command) && !IsRoutesOwn(envelope.ReplyTo, Sender),
        CounterCommandSet set => set.Commands.Any(q => IsIncrement(q.Command) && !IsRoutesOwn(q.ReplyTo, Sender)),
        ICounterCommand command => IsIncrement(command),
        _ => false,
    };

    private bool IsRoutesOwn(IActorRef replyTo, IActorRef sender) => replyTo.Equals(_routeIngest) && sender.Equals(_routeIngest);

    private static bool IsIncrement(ICounterCommand command) => command is Increment or AggregatedIncrement;

    /// <summary>An increment from another sender while the route is open: the route closes first (see <see cref="ClosingRoute"/>).</summary>
    private void CloseRouteFirst(object message)
    {
        _routeForcedClosedAt = System.Diagnostics.Stopwatch.GetTimestamp();
        if (_journal is null)
        {
            _routeIngest = null; // the route died with the log
            TakeCommand(message);
            return;
        }

        _journal.Tell(new CloseRoute(_key, _routeId));
        Become(ClosingRoute);
        _stashed = 0;
        Stash.Stash();
        _stashed++;
    }

    /// <summary>A stopping entity closes its route, and stops once the log has handed it every delta routed through it.</summary>
    private void CloseRouteToStop()
    {
        if (_routeIngest is null)
            return;
        if (_journal is null)
            _routeIngest = null;
        else
            _journal.Tell(new CloseRoute(_key, _routeId));
    }

    /// <summary>
    /// Offers the shard log a route for this node's ingest stage once nothing of this key waits for the log: the stage's next
    /// aggregates then go to the log and this entity hears their deltas. Not within a second of a route closed for another
    /// sender's increment (a key written from several nodes keeps the plain path), nor for numbers near the 64-bit bound.
    /// </summary>
    private void OfferRoute()
    {
        if (_routeIngest is not null || _routeCandidate is null || _journal is null || !_groups.IsEmpty)
            return;
        if (_routeForcedClosedAt != 0 && System.Diagnostics.Stopwatch.GetElapsedTime(_routeForcedClosedAt) < RouteQuietPeriod)
            return;
        var magnitude = Magnitude(_sums.Stored) + Magnitude(_sums.InFlight) + Magnitude(_sums.Pending);
        if (magnitude > ShardLogRoutes.Limit / 2)
            return;
        _routeIngest = _routeCandidate;
        if (_inbox is null)
        {
            _inbox = new CounterRouteInbox();
            // increments not stored yet: the ledger counts the inbox from now on, not only from this entity's next update
            if (_ledgerEntry is not null)
                UpdateLedger();
        }

        _journal.Tell(new OfferRoute(_key, _routeIngest, ++_routeId, (long)magnitude, _inbox));
    }

    private static Int128 Magnitude(long value) => value < 0 ? -(Int128)value : value;

    /// <summary>Routed increments are in the log: they are pending here now, like the entity's own journaled ones.</summary>
    private void RoutedPersisted(RoutedDeltaJournaled routed)
    {
        // a stopped counter's ids: a retry of them is a repeat here, and the row records them
        TakeJournaled(routed.Delta, routed.Requests, (int)Math.Min(routed.Increments, int.MaxValue), routed.Since);
        if (!routed.Counted)
            CounterMetrics.Increments.Add(routed.Increments, _tag);
        _journaledUpTo = Math.Max(_journaledUpTo, routed.Seq);
        ArmFlushTimer();
    }

    /// <summary>The shard log's death and the re-attach, handled alike while loading and active.</summary>
    private bool JournalLifecycle(object message)
    {
        switch (message)
        {
            case Terminated t when t.ActorRef.Equals(_journal):
                JournalDied();
                return true;
            case Terminated:
                return true; // an earlier shard log incarnation
            case RestartJournal:
                AttachToJournal();
                return true;
            case AttachUnanswered:
                // the log did not answer (its recovery failed, e.g. the journal is down): the increments waiting for it hear
                // so now (503 at the HTTP edge) instead of waiting out the outage, and their ingest slots are freed
                if (_groups.Grouped > 0)
                    RefuseGroup(ErrorCode.StoreFailure, "the shard log is not available (is the journal reachable?)");
                AttachToJournal();
                return true;
            default:
                return false;
        }
    }

    // ---------------------------------------------------------------- commands

    /// <returns>
    /// <c>true</c> when the ingest confirmation of the command went with its answer (the stage's own aggregate) or waits for
    /// it (journal mode increments).
    /// </returns>
    private bool Handle(ICounterCommand command, IActorRef replyTo, IActorRef? ingest, long envelopeId)
    {
        switch (command)
        {
            case Increment { RequestId: { } id } increment when !RequestIds.TryValidate(id, out var idError):
                return RefuseInOrder(increment.Delta, replyTo, ingest, envelopeId, ErrorCode.InvalidArgument, idError!);
            case Increment increment:
                return Apply(increment.Delta, increment.RequestId is { } requestId ? [new RequestDelta(requestId, increment.Delta)] : default,
                    replyTo, ingest, envelopeId);
            case AggregatedIncrement aggregated:
                return Apply(aggregated.Delta, aggregated.Requests, replyTo, ingest, envelopeId);
            case GetCounter or FlushCounter when DeferredForJournal(command, replyTo):
                return false;
            case GetCounter:
                Reply(replyTo, new CounterValue(_key, _sums.Stored, _sums.Unstored, _sums.Stored + _sums.Unstored));
                return false;
            case FlushCounter:
                Flush(replyTo);
                return false;
            case WakeCounter:
                return false; // starting the entity was the point: recovery arms the flush
            default:
                Refuse(command, replyTo, ErrorCode.InvalidArgument, $"unknown counter command {command.GetType().Name}");
                return false;
        }
    }

    /// <summary>
    /// The commands the ingest stage queued for this key, in order, each handled as if sent alone. The set's ingest slot is
    /// freed once: at once, or — journal mode — with the last of its increments that joined the journal group (they are all
    /// in that same group, so it is journaled, or fails, with the others).
    /// </summary>
    private void HandleSet(CounterCommandSet set, IActorRef ingest)
    {
        JournalGroups.Slot? last = null;
        foreach (var queued in set.Commands)
        {
            _lastWaiting = null;
            Handle(queued.Command, queued.ReplyTo, null, 0);
            last = _lastWaiting ?? last;
        }

        if (last is { } slot)
            JournalGroups.HandOver(slot, ingest, set.Id);
        else
            ingest.Tell(new CounterEnvelopeTaken(set.Id));
    }

    /// <param name="requested">The delta the caller sent (what the answer says).</param>
    /// <param name="requests">The request ids in it, if any: those already counted are left out of the delta.</param>
    /// <param name="replyTo">Whom to answer.</param>
    /// <param name="ingest">The ingest stage whose slot is freed with the answer (journal mode), or <c>null</c>.</param>
    /// <param name="envelopeId">That slot.</param>
    private bool Apply(long requested, ImmutableArray<RequestDelta> requests, IActorRef replyTo, IActorRef? ingest, long envelopeId)
    {
        var delta = requested;
        var fresh = requests;
        if (!requests.IsDefaultOrEmpty && !RequestMemory.TryFilter(requested, requests, NowMs(), out delta, out fresh))
            return RefuseInOrder(requested, replyTo, ingest, envelopeId, ErrorCode.Overflow,
                $"adding {requested} without its repeated requests overflows a 64-bit integer");

        var unjournaled = _groups.Unjournaled;
        if (!_sums.Fits(delta, unjournaled, _groups.GroupSum, out var group))
            return RefuseInOrder(requested, replyTo, ingest, envelopeId, ErrorCode.Overflow,
                $"adding {requested} to the counter's total {_sums.Total(unjournaled)} overflows a 64-bit integer");

        return _accept(requested, delta, fresh, group, replyTo, ingest, envelopeId);
    }

    /// <summary>Memory durability: the increment is acknowledged once it is in the pending sum.</summary>
    /// <returns><c>true</c> when the answer went with the ingest confirmation (the stage's own aggregate).</returns>
    private bool AcceptInMemory(long requested, long delta, ImmutableArray<RequestDelta> fresh, long group, IActorRef replyTo, IActorRef? ingest, long envelopeId)
    {
        AddPending(delta);
        Counted(fresh);
        CounterMetrics.Increments.Add(1, _tag);
        ArmFlushTimer();
        if (IsIngestsOwn(replyTo, ingest))
        {
            ingest.Tell(new AggregateAnswered(envelopeId, Accepted(requested)));
            return true;
        }

        Reply(replyTo, Accepted(requested));
        return false;
    }

    /// <summary>Journal durability: the increment joins the group for the next persist and is acknowledged once that is done.</summary>
    /// <returns><c>true</c>: the ingest confirmation is deferred with the answer.</returns>
    private bool Group(long requested, long delta, ImmutableArray<RequestDelta> fresh, long group, IActorRef replyTo, IActorRef? ingest, long envelopeId)
    {
        if (!_groups.HasRoom)
            return RefuseInOrder(requested, replyTo, ingest, envelopeId, ErrorCode.Saturated,
                $"counter [{_key}] already has {_groups.Grouped} increments waiting for the journal");
        if (_routeCandidate is null && IsIngestsOwn(replyTo, ingest) && ingest is IInternalActorRef { IsLocal: true })
            _routeCandidate = ingest; // this node's ingest stage: routes are node-local (the log lives in this shard too)

        _groups.Add(new JournalWaiting(requested, replyTo, ingest, envelopeId), group, fresh);
        _lastWaiting = _groups.Last;
        TryPersist();
        return ingest is not null;
    }

    /// <summary>
    /// Refuses an increment, answering in arrival order: after the increments before it that are still waiting for the
    /// journal (the fast path matches its answers to its aggregates by order).
    /// </summary>
    /// <returns><c>true</c> when the ingest confirmation went with the answer or waits for it.</returns>
    private bool RefuseInOrder(long delta, IActorRef replyTo, IActorRef? ingest, long envelopeId, ErrorCode code, string message)
    {
        var refusal = new JournalWaiting(delta, replyTo, ingest, envelopeId, new CounterRejected(_key, code, message));
        if (!_groups.TryQueueRefusal(refusal))
        {
            if (IsIngestsOwn(replyTo, ingest))
            {
                ingest.Tell(new AggregateAnswered(envelopeId, Refused(refusal.Refusal!)));
                return true;
            }

            Refuse(new Increment(_key, delta), replyTo, code, message);
            return false;
        }

        _lastWaiting = _groups.Last;
        return ingest is not null;
    }

    /// <summary>
    /// A read or flush sees the increments that arrived before it, so it waits until the persists that hold them are done
    /// (the next persist takes the whole waiting group). Memory durability never waits.
    /// </summary>
    private bool DeferredForJournal(ICounterCommand command, IActorRef replyTo)
    {
        switch (_groups.TryDefer(command, replyTo))
        {
            case JournalGroups.Deferral.NotNeeded:
                return false;
            case JournalGroups.Deferral.Full:
                Refuse(command, replyTo, ErrorCode.Saturated, $"{_settings.EntityBufferSize} reads and flushes are already waiting for the journal");
                return true;
            default:
                return true;
        }
    }

    private void RunDeferred()
    {
        var ready = _groups.TakeReady();
        for (var i = 0; i < ready.Count; i++)
            Handle(ready[i].Command, ready[i].ReplyTo, null, 0);
    }

    private void Flush(IActorRef replyTo)
    {
        if (_waitingForPending.Count + _waitingForInFlight.Count >= _settings.EntityBufferSize)
        {
            Refuse(new FlushCounter(_key), replyTo, ErrorCode.Saturated, $"{_settings.EntityBufferSize} flush requests are already waiting");
            return;
        }

        // journal mode: increments accepted before this flush but still in the journal pipeline are written by a later flush;
        // the caller waits for the pending part that exists now (acknowledged increments are always pending or beyond)
        if (HasUnwritten())
        {
            _waitingForPending.Add(replyTo);
            StartWrite();
        }
        else if (_write != WriteState.Idle)
        {
            _waitingForInFlight.Add(replyTo);
        }
        else
        {
            Reply(replyTo, new CounterFlushed(_key, _sums.Stored));
        }
    }

    // ---------------------------------------------------------------- writes to the target

    /// <summary>
    /// Whether something not in flight must be written: a pending delta, or — journal durability — events of this key newer
    /// than the row's <c>applied_seq</c> whose deltas netted out (the row must still record their sequence number, so that a
    /// replay after the log deleted part of them cannot apply the rest; in memory durability the row is never behind).
    /// </summary>
    private bool HasUnwritten() => _sums.Pending != 0 || _pendingRequests is not null || (_write == WriteState.Idle && _journaledUpTo > _lastSeq);

    /// <summary>
    /// The route's inbox holds deltas: the next flush takes them (as does any other message before it), so that a busy key
    /// costs this entity a message per flush, not one per event of its log.
    /// </summary>
    private void ArmFlushTimerForInbox()
    {
        // the node's gauges count the key as holding unstored increments from now (the inbox's are counted there)
        if (_ledgerEntry is null)
            _ledger.Dirty(_key, System.Diagnostics.Stopwatch.GetTimestamp(), _sums.UnstoredCount, ref _ledgerEntry, _inbox);
        ArmFlushTimer(unwritten: true);
    }

    /// <param name="unwritten">Whether something waits to be written that <see cref="HasUnwritten"/> does not see (an inbox).</param>
    private void ArmFlushTimer(bool unwritten = false)
    {
        if (_write == WriteState.Idle && (unwritten || HasUnwritten()) && !Timers.IsTimerActive(FlushTick.Instance))
            Timers.StartSingleTimer(FlushTick.Instance, FlushTick.Instance, FlushDelay());
    }

    /// <summary>
    /// The jittered flush interval counted from the oldest pending increment, not from now: increments that arrived while the
    /// previous write was in flight have waited that long already, so writes start at most one interval apart (plus the
    /// write) instead of an interval after the previous write returned.
    /// </summary>
    private TimeSpan FlushDelay()
    {
        var delay = JitteredInterval();
        if (_sums.PendingSince != 0)
            delay -= System.Diagnostics.Stopwatch.GetElapsedTime(_sums.PendingSince);
        return delay > TimeSpan.Zero ? delay : TimeSpan.Zero;
    }

    private void StartWrite()
    {
        if (_write != WriteState.Idle)
            return;
        if (!HasUnwritten())
        {
            AnswerAll(_waitingForPending, new CounterFlushed(_key, _sums.Stored));
            return;
        }

        Timers.Cancel(FlushTick.Instance);
        _sums.BeginWrite();
        _inFlightRequests = ToWrite(_pendingRequests);
        _pendingRequests = null;
        _writeStartedAt = System.Diagnostics.Stopwatch.GetTimestamp();
        _writeSeq = _nextWriteSeq();
        _waitingForInFlight.AddRange(_waitingForPending);
        _waitingForPending.Clear();
        SendWrite();
    }

    private void SendWrite()
    {
        _write = WriteState.Outstanding;
        _storeWriter.Tell(new WriteCounter(new CounterWrite(_key, _sums.InFlight, _writeSeq) { Requests = _inFlightRequests }));
        Timers.StartSingleTimer(WriteTimedOut.Instance, WriteTimedOut.Instance, _settings.StoreWriter.WriteTimeout);
    }

    /// <returns>Whether it confirmed the write in flight (the behaviour then starts the next write, or the flush timer).</returns>
    private bool Written(CounterWritten written)
    {
        // a late answer to a write that timed out is still the answer to that write: same key, same seq
        if (_write == WriteState.Idle || written.Seq != _writeSeq)
            return false;
        if (written.Stored.AppliedSeq < written.Seq)
        {
            WriteFailed($"store reports applied_seq {written.Stored.AppliedSeq} after write {written.Seq}");
            return false;
        }

        if (written.Stored.AppliedSeq > written.Seq)
            _log.Error("Counter [{CounterKey}]: store applied_seq {AppliedSeq} is ahead of this entity's write {FlushSeq}; another writer touched the row",
                _key, written.Stored.AppliedSeq, written.Seq);

        Timers.Cancel(WriteTimedOut.Instance);
        Timers.Cancel(RetryWrite.Instance);
        _write = WriteState.Idle;
        _sums.Written(written.Stored.Value);
        _lastSeq = written.Stored.AppliedSeq;
        _inFlightRequests = null;
        _failures = 0;
        CounterMetrics.Flushes.Add(1, _tag);
        CounterMetrics.FlushDuration.Record(System.Diagnostics.Stopwatch.GetElapsedTime(_writeStartedAt).TotalSeconds, _tag);
        UpdateLedger();
        AnswerAll(_waitingForInFlight, new CounterFlushed(_key, _sums.Stored));

        if (_journal is not null && !HasUnwritten())
            _journal.Tell(new KeyStored(_key, _lastSeq)); // the log may delete this key's events up to here
        return true;
    }

    private void WriteFailed(string reason)
    {
        _write = WriteState.AwaitingRetry;
        Timers.Cancel(WriteTimedOut.Instance);
        CounterMetrics.FlushFailures.Add(1, _tag);
        _failures++;
        var backoff = Backoff(_failures);
        // the store writer logs a run of failed transactions once, with its keys; a counter warns once per run of its own
        // failures, and only the first few counters of an outage do, so that a store that is down for a while does not
        // turn every counter's every retry, or every counter, into a log line
        if (_failures == 1 && _ledger.MayWarnOfFailure(out var last))
            _log.Warning("Counter [{CounterKey}] write {FlushSeq} of {Delta} failed: {Reason}; retrying in {Backoff} (further attempts are logged at debug level{Others})",
                _key, _writeSeq, _sums.InFlight, reason, backoff, last ? OthersAtDebugLevel : "");
        else
            _log.Debug("Counter [{CounterKey}] write {FlushSeq} failed (attempt {Attempt}): {Reason}; retrying in {Backoff}",
                _key, _writeSeq, _failures, reason, backoff);
        AnswerAll(_waitingForInFlight, new CounterRejected(_key, ErrorCode.StoreFailure, $"store write failed, retrying: {reason}"));
        Timers.StartSingleTimer(RetryWrite.Instance, RetryWrite.Instance, backoff);
    }

    // ---------------------------------------------------------------- journal

    /// <summary>Joins the shard's log (through the region, which starts the log if needed); answered with <see cref="JournalAttached"/>.</summary>
    private void AttachToJournal()
    {
        _journal = null;
        ClusterSharding.Get(Context.System).ShardRegion(_settings.TypeName)
            .Tell(new AttachToJournal(_shardId, _key, _journaledUpTo), Self);
        // no answer (the log failed its recovery and stopped, e.g. the journal is down): ask again after a back-off, not after
        // the write timeout, so that the counter is back soon after the journal is
        Timers.StartSingleTimer(RestartJournal.Instance, AttachUnanswered.Instance, Backoff(++_attachAttempts));
    }

    /// <summary>
    /// Takes the replayed events of this key that the row (or a write in flight, or an earlier attach) does not hold yet into
    /// the pending delta, and reports to the log what the row holds when nothing is pending.
    /// </summary>
    private void Attached(JournalAttached attached, IActorRef journal)
    {
        Timers.Cancel(RestartJournal.Instance);
        _attachAttempts = 0;
        _journal = journal;
        Context.Watch(journal);
        _failures = 0;
        var baseSeq = Math.Max(_write != WriteState.Idle ? _writeSeq : _lastSeq, _journaledUpTo);
        if (_lastSeq > attached.HighestSeq)
            _log.Error("Counter [{CounterKey}]: the row's applied_seq {AppliedSeq} is ahead of its shard log ({JournalSeq}); was the table written in memory durability, or number-of-shards changed?",
                _key, _lastSeq, attached.HighestSeq);
        var taken = 0;
        foreach (var e in attached.Events)
        {
            if (e.Seq <= baseSeq)
                continue;
            TakeJournaled(e.Delta, e.Requests);
            _journaledUpTo = Math.Max(_journaledUpTo, e.Seq);
            taken++;
        }

        if (taken > 0 && _write == WriteState.Idle)
            StartWrite(); // replayed increments were acknowledged long ago (before a crash or a stopped log): write them now
        else if (taken > 0)
            ArmFlushTimer();
        else if (_write == WriteState.Idle)
            _journal.Tell(new KeyStored(_key, _lastSeq));
    }

    private void TryPersist()
    {
        if (_journal is null)
            return; // sent once attached again (a stopping counter refuses them: RefuseGroupWithoutLog)

        if (_groups.TryStartPersist())
            _journal.Tell(new JournalDelta(_key, _groups.PersistingSum, _groups.PersistingRequests));
    }

    private void Persisted(DeltaJournaled persisted)
    {
        if (_groups.Persisting == 0)
            return;
        var requests = _groups.PersistingRequests;
        var journaled = _groups.EndPersist();
        AddPending(persisted.Delta, journaled.Count);
        Counted(requests);
        CounterMetrics.Increments.Add(journaled.Count, _tag);
        _journaledUpTo = persisted.Seq;
        foreach (var waiting in journaled)
        {
            if (waiting.Refusal is { } refusal)
                Answer(waiting, Refused(refusal));
            else
                Answer(waiting, Accepted(waiting.Delta));
        }

        ArmFlushTimer();
        TryPersist();
        RunDeferred();
    }

    private void PersistFailed(string reason)
    {
        if (_groups.Persisting == 0)
            return;
        var failed = _groups.EndPersist();
        if (_ledger.MayWarnOfFailure(out var last))
            _log.Warning("Counter [{CounterKey}]: {Increments} increments were not journaled: {Reason}{Others}", _key, failed.Count, reason,
                last ? OthersAtDebugLevel : "");
        else
            _log.Debug("Counter [{CounterKey}]: {Increments} increments were not journaled: {Reason}", _key, failed.Count, reason);
        RefuseAll(failed, ErrorCode.StoreFailure, reason);
        TryPersist();
        RunDeferred();
    }

    /// <summary>A stopping counter without its shard log refuses the increments waiting for it, so that it can stop.</summary>
    private void RefuseGroupWithoutLog()
    {
        if (_journal is null && _groups.Persisting == 0 && _groups.Grouped > 0)
            RefuseGroup(ErrorCode.ShuttingDown, "the counter is stopping and its shard log is gone");
    }

    /// <summary>Refuses the group waiting for the next persist; reads and flushes waiting for it go on.</summary>
    private void RefuseGroup(ErrorCode code, string reason)
    {
        RefuseAll(_groups.TakeGroup(), code, reason);
        RunDeferred();
    }

    private void RefuseAll(List<JournalWaiting> waitingList, ErrorCode code, string reason)
    {
        foreach (var waiting in waitingList)
            Answer(waiting, Refused(waiting.Refusal ?? new CounterRejected(_key, code, reason)));
    }

    /// <summary>
    /// Answers an increment that waited for the journal and frees its ingest slot, if it holds one. The ingest stage's own
    /// aggregate hears both in one <see cref="AggregateAnswered"/>: on the acknowledged fast path every increment travels in
    /// such an aggregate, so that is a message fewer per key and persist.
    /// </summary>
    private void Answer(in JournalWaiting waiting, ICounterReply answer)
    {
        if (IsIngestsOwn(waiting.ReplyTo, waiting.Ingest))
        {
            waiting.Ingest.Tell(new AggregateAnswered(waiting.EnvelopeId, answer));
            return;
        }

        if (answer is CounterRejected rejected)
            Deliver(waiting.ReplyTo, rejected, new Increment(_key, waiting.Delta));
        else
            Reply(waiting.ReplyTo, answer);
        waiting.Ingest?.Tell(new CounterEnvelopeTaken(waiting.EnvelopeId));
    }

    /// <summary>
    /// Whether the answer goes to the ingest stage that also waits for the envelope's confirmation (its own fast-path
    /// aggregate): then both travel in one <see cref="AggregateAnswered"/>.
    /// </summary>
    private static bool IsIngestsOwn(IActorRef replyTo, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] IActorRef? ingest) =>
        ingest is not null && ingest.Equals(replyTo);

    /// <summary>Counts a refusal (the refusals metric) and returns it.</summary>
    private CounterRejected Refused(CounterRejected refusal)
    {
        CounterMetrics.Refusals.Add(1, _tag, new KeyValuePair<string, object?>("reason", refusal.Code.ToString()));
        return refusal;
    }

    private void JournalDied()
    {
        // the log stops on a failed persist, or when idle or handed off: the outcome of the delta in flight is unknown (it may
        // be in the log), so its callers are told it failed; a new log's replay hands over what this entity does not hold
        _journal = null;
        _routeIngest = null; // its routes are gone with it
        PersistFailed("journal write failed or the shard log stopped");
        // its own attempt count: failed writes of the row (the same outage) must not stretch the way back to the journal
        var backoff = Backoff(++_attachAttempts);
        _log.Debug("Counter [{CounterKey}]: shard log stopped; attaching again in {Backoff}", _key, backoff);
        Timers.StartSingleTimer(RestartJournal.Instance, RestartJournal.Instance, backoff);
    }

    // ---------------------------------------------------------------- stop

    /// <summary>Stopping: stops once every increment is acknowledged (or refused) and what is unwritten is written.</summary>
    private void ContinueStop()
    {
        if (_routeIngest is not null)
            return; // every delta routed through the log reaches this entity first (the log answers the close after them)
        if (!_groups.IsEmpty)
            return; // acknowledge (or refuse) every increment first
        if (HasUnwritten() && _write == WriteState.Idle)
            StartWrite();
        if (_write != WriteState.Idle)
            return;
        Context.Stop(Self);
    }

    // ---------------------------------------------------------------- loading

    private void RequestLoad()
    {
        _storeWriter.Tell(new LoadCounter(_key));
        Timers.StartSingleTimer(LoadTimedOut.Instance, LoadTimedOut.Instance, _settings.StoreWriter.WriteTimeout);
    }

    private void LoadFailed(string reason)
    {
        Timers.Cancel(LoadTimedOut.Instance);
        _failures++;
        var backoff = Backoff(_failures);
        if (_failures == 1 && _ledger.MayWarnOfFailure(out var last))
            _log.Warning("Counter [{CounterKey}] load failed: {Reason}; retrying in {Backoff} (further attempts are logged at debug level{Others})",
                _key, reason, backoff, last ? OthersAtDebugLevel : "");
        else
            _log.Debug("Counter [{CounterKey}] load failed (attempt {Attempt}): {Reason}; retrying in {Backoff}", _key, _failures, reason, backoff);
        Timers.StartSingleTimer(RetryLoad.Instance, RetryLoad.Instance, backoff);
    }

    private bool StashBounded()
    {
        if (_stashed >= _settings.EntityBufferSize)
            return false;
        _stashed++;
        Stash.Stash();
        return true;
    }

    // ---------------------------------------------------------------- helpers

    private string SaturatedMessage() =>
        $"counter [{_key}] is loading (or closing its route through the journal) and already buffers {_settings.EntityBufferSize} messages";

    private TimeSpan JitteredInterval() =>
        _settings.FlushInterval * (1 - _settings.FlushJitter * Random.Shared.NextDouble());

    private TimeSpan Backoff(int attempt) =>
        RetryBackoff.Of(attempt, _settings.Retry.MinBackoff, _settings.Retry.MaxBackoff, _settings.Retry.RandomFactor, Random.Shared.NextDouble());

    private CounterRequestMemory RequestMemory =>
        _requestMemory ??= new CounterRequestMemory(_settings.Idempotency.Window, _settings.Idempotency.MaxIdsPerKey);

    private static long NowMs() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    /// <summary>The requests of a delta now in the pending sum: remembered, and recorded by the row with the next write.</summary>
    private void Counted(ImmutableArray<RequestDelta> requests)
    {
        if (requests.IsDefaultOrEmpty)
            return;
        RequestMemory.Remember(requests, NowMs());
        (_pendingRequests ??= new List<RequestDelta>()).AddRange(requests);
    }

    /// <summary>
    /// A journaled delta this entity did not group itself (replayed, or a stopped counter's handed on) joins the pending sum
    /// without the increments whose id it counted already: the store would leave them out of the row, and a read must not
    /// count them meanwhile.
    /// </summary>
    private void TakeJournaled(long delta, ImmutableArray<RequestDelta> requests, int increments = 1, long since = 0)
    {
        // a delta that leaves the 64-bit range without its repeats goes whole: the store still counts each id once
        if (!requests.IsDefaultOrEmpty && RequestMemory.TryFilter(delta, requests, NowMs(), out var counted, out var fresh))
            (delta, requests) = (counted, fresh);
        AddPending(delta, increments, since);
        Counted(requests);
    }

    /// <summary>The pending requests as the store records them, remembered for the window from now.</summary>
    private IReadOnlyList<CounterRequest>? ToWrite(List<RequestDelta>? requests)
    {
        if (requests is null)
            return null;
        var expiresAt = DateTimeOffset.UtcNow + _settings.Idempotency.Window;
        return requests.Select(r => new CounterRequest(r.Id, r.Delta, expiresAt)).ToArray();
    }

    /// <summary>Adds an accepted (journal mode: journaled) delta to the pending sum and keeps the ledger's age current.</summary>
    private void AddPending(long delta, int increments = 1, long since = 0)
    {
        _sums.Add(delta, increments, since);
        UpdateLedger();
    }

    /// <summary>Tells the node's ledger since when this key holds increments not confirmed stored.</summary>
    private void UpdateLedger()
    {
        var since = _sums.OldestUnstored(writing: _write != WriteState.Idle);
        if (since == 0)
            _ledger.Clean(_key, ref _ledgerEntry);
        else
            _ledger.Dirty(_key, since, _sums.UnstoredCount, ref _ledgerEntry, _inbox);
    }


    private void Refuse(ICounterCommand command, IActorRef replyTo, ErrorCode code, string message) =>
        Deliver(replyTo, Refused(new CounterRejected(command.Key, code, message)), command);

    /// <summary>Hands a counted refusal of <paramref name="command"/> to its caller, or logs it when nobody waits for an answer.</summary>
    private void Deliver(IActorRef replyTo, CounterRejected refusal, ICounterCommand command)
    {
        if (replyTo.CanReceiveReplies())
            replyTo.Tell(refusal);
        else
            _log.Warning("Counter [{CounterKey}] refused {Command} ({ErrorCode}): {Reason}", _key, command, refusal.Code, refusal.Message);
    }

    /// <summary>
    /// The answer to an accepted increment of <paramref name="delta"/>: the previous one again when the delta is the same (an
    /// immutable message; mostly the same delta, e.g. 1, so not a new one per acknowledged increment).
    /// </summary>
    private IncrementAccepted Accepted(long delta) =>
        _lastAccepted is { } last && last.Delta == delta ? last : _lastAccepted = new IncrementAccepted(_key, delta);

    private static void Reply(IActorRef replyTo, ICounterReply reply)
    {
        if (replyTo.CanReceiveReplies())
            replyTo.Tell(reply);
    }

    private static void AnswerAll(List<IActorRef> waiting, ICounterReply reply)
    {
        foreach (var replyTo in waiting)
            Reply(replyTo, reply);
        waiting.Clear();
    }

    /// <summary>Where the write not confirmed yet stands.</summary>
    private enum WriteState
    {
        /// <summary>No write is unconfirmed.</summary>
        Idle,

        /// <summary>The write's request is at the store writer.</summary>
        Outstanding,

        /// <summary>The write failed or timed out; it is sent again when <see cref="RetryWrite"/> fires.</summary>
        AwaitingRetry,
    }

    /// <summary>How long after a route closed for another sender's increment the entity offers none.</summary>
    private static readonly TimeSpan RouteQuietPeriod = TimeSpan.FromSeconds(1);

    private sealed class FlushTick
    {
        public static readonly FlushTick Instance = new();

        private FlushTick()
        {
        }
    }

    private sealed class WriteTimedOut
    {
        public static readonly WriteTimedOut Instance = new();

        private WriteTimedOut()
        {
        }
    }

    private sealed class RetryWrite
    {
        public static readonly RetryWrite Instance = new();

        private RetryWrite()
        {
        }
    }

    private sealed class LoadTimedOut
    {
        public static readonly LoadTimedOut Instance = new();

        private LoadTimedOut()
        {
        }
    }

    private sealed class RetryLoad
    {
        public static readonly RetryLoad Instance = new();

        private RetryLoad()
        {
        }
    }

    private sealed class AttachUnanswered
    {
        public static readonly AttachUnanswered Instance = new();

        private AttachUnanswered()
        {
        }
    }

    private sealed class RestartJournal
    {
        public static readonly RestartJournal Instance = new();

        private RestartJournal()
        {
        }
    }

}
