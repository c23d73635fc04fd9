using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Event;
using Akka.Persistence;
using Akka.WriteBehind.Internal;

namespace Akka.WriteBehind.Counters;

/// <summary>
/// INTERNAL API
/// <para>
/// The journal of one shard of a journal-durable counter set (persistence id <c>&lt;type name&gt;|shard-&lt;id&gt;</c>): an
/// entity of that same shard, so sharding's single-writer guarantee covers it and it hands off and moves with the shard's
/// counters. Each counter of the shard attaches to it and sends at most one delta at a time; deltas that arrive while a
/// persist is in flight go into the next event together (group commit across keys), and each counter hears the event's
/// sequence number, which its row's <c>applied_seq</c> then records. The log replays as a persistent actor but does not
/// persist itself: it numbers its events and hands each to the node's <see cref="ShardJournalWriterActor"/>, which writes
/// the events of many logs in one journal call.
/// </para>
/// <para>
/// Counters report what their rows hold (<see cref="KeyStored"/>); events are deleted up to the oldest event that holds a
/// delta not yet stored, through the same writer, which never runs a delete at once with a write. After a replay the log
/// wakes the keys that still have events (a bounded number at a time) and hands each its events when it attaches; the
/// counter keeps only what its row does not hold. Only counters write rows.
/// </para>
/// </summary>
internal sealed class ShardJournalActor : UntypedPersistentActor, IWithTimers
{
    private const string EntityPrefix = "\u0001journal-";
    private const string RewakeSoon = "rewake-soon"; // a timer key: one rewake (RewakeTick) besides the periodic one

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly string _shardId;
    private readonly CounterSettings _settings;
    private readonly CounterLedger _ledger;
    private readonly IActorRef _writer;
    private readonly string _writerGuid = Guid.NewGuid().ToString("N");
    private long _seq; // the newest sequence number handed out (events are written by the node's journal writer)
    private IActorRef? _region;

    // replayed events of keys whose counters have not attached yet, and the keys to wake for them
    private readonly Dictionary<string, List<JournaledDelta>> _recovered = new(StringComparer.Ordinal);
    private readonly Queue<string> _toWake = new();
    private readonly HashSet<string> _woken = new(StringComparer.Ordinal);
    // keys whose counter stopped with deltas from this log that its row may not hold: the next one's are read from the journal
    private readonly HashSet<string> _readOnAttach = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IActorRef> _reading = new(StringComparer.Ordinal); // reads in flight: key → its counter

    private readonly ShardLogTrims _trims = new(); // which events every key's row holds, so how far the log may delete
    private long _confirmedSeq;  // the newest event whose persist is confirmed

    private readonly Dictionary<IActorRef, string> _attached = new(ActorRefComparer.Instance); // attached counters and their keys
    private readonly Dictionary<string, IActorRef> _counters = new(StringComparer.Ordinal); // attached counters by key
    private readonly ShardLogRoutes _routes = new();
    private List<GroupEntry> _group = new();
    private List<GroupEntry>? _persisting;
    private List<GroupEntry>? _spare; // the answered persist's list, the next group's
    // the ingest stages' routed batches answered with the group's persist, and with the one in flight
    private List<BatchAnswer> _groupAnswers = new();
    private List<BatchAnswer> _persistingAnswers = new();
    private long _lastPersistStarted; // Stopwatch timestamp; 0: none yet

    public ShardJournalActor(string shardId, CounterSettings settings, CounterLedger ledger, IActorRef writer, IActorRef? region)
    {
        _writer = writer;
        _region = region;
        _shardId = shardId;
        _settings = settings;
        _ledger = ledger;
        PersistenceId = PersistenceIdOf(settings.TypeName, shardId);
        JournalPluginId = settings.Journal.PluginId;
        SnapshotPluginId = "akka.persistence.no-snapshot-store";
    }

    public override string PersistenceId { get; }

    public ITimerScheduler Timers { get; set; } = null!;

    /// <param name="shardId">The shard.</param>
    /// <param name="settings">The set's settings.</param>
    /// <param name="ledger">The set's node ledger.</param>
    /// <param name="writer">The node's <see cref="ShardJournalWriterActor"/> of the set, which writes this log's events.</param>
    /// <param name="region">The set's shard region, which wakes keys and keeps the log alive (<c>null</c>: looked up by the
    /// set's type name; specs give a probe).</param>
    public static Props Props(string shardId, CounterSettings settings, CounterLedger ledger, IActorRef writer, IActorRef? region = null) =>
        Akka.Actor.Props.Create(() => new ShardJournalActor(shardId, settings, ledger, writer, region));

    /// <summary>The entity id of the shard log of <paramref name="shardId"/> (a control character keeps it apart from every valid key).</summary>
    public static string EntityIdOf(string shardId) => EntityPrefix + shardId;

    /// <summary>Whether <paramref name="entityId"/> is a shard log's entity id, and of which shard.</summary>
    public static bool TryShardOf(string entityId, out string shardId)
    {
        var isLog = entityId.StartsWith(EntityPrefix, StringComparison.Ordinal);
        shardId = isLog ? entityId[EntityPrefix.Length..] : "";
        return isLog;
    }

    /// <summary>The persistence id of the log of shard <paramref name="shardId"/> of the counter set <paramref name="typeName"/>.</summary>
    public static string PersistenceIdOf(string typeName, string shardId) => PersistenceIdPrefix(typeName) + shardId;

    /// <summary>What every shard log persistence id of the counter set <paramref name="typeName"/> starts with.</summary>
    public static string PersistenceIdPrefix(string typeName) => typeName + "|shard-";

    protected override void PreStart()
    {
        _ledger.LogStarted(Self); // asked by a flush-all once it has replayed (a persistent actor stashes commands until then)
        base.PreStart();
    }

    protected override void PostStop()
    {
        _ledger.LogStopped(Self);
        // routed increments are never left without an answer: whether a persist in flight is in the journal is unknown, so
        // they hear the same as the counters' own increments do when their log stops
        AnswerBatches(_persistingAnswers, new RoutedOutcome(RoutedOutcomeKind.Refused, ErrorCode.StoreFailure,
            "journal write failed or the shard log stopped"));
        AnswerBatches(_groupAnswers, new RoutedOutcome(RoutedOutcomeKind.Refused, ErrorCode.StoreFailure,
            "the shard log stopped before it persisted the increment"));
        if (_persisting is not null)
            _ledger.PersistsInFlightChanged(-1);
        if (_group.Count > 0)
            _log.Warning("Shard log {0} stopped with {1} deltas not persisted; their callers were not acknowledged", PersistenceId, _group.Count);
        base.PostStop();
    }

    protected override void OnRecover(object message)
    {
        switch (message)
        {
            case ShardIncrements e:
                foreach (var d in e.Deltas)
                {
                    KeepForAttach(d.Key, new JournaledDelta(LastSequenceNr, d.Delta, d.Requests));
                    _trims.Unstored(d.Key, LastSequenceNr);
                }

                break;
            case RecoveryCompleted:
                _ledger.JournalFailures.Succeeded(_log, "The shard-log journal");
                _confirmedSeq = _seq = LastSequenceNr;
                KeepMisplacedKeysInTheJournal();
                foreach (var key in _recovered.Keys)
                    _toWake.Enqueue(key);
                if (_recovered.Count > 0)
                    _log.Info("Shard log {0} replayed {1} keys with events up to {2}; waking them", PersistenceId, _recovered.Count, LastSequenceNr);
                WakeMore();
                Timers.StartPeriodicTimer(TrimTick.Instance, TrimTick.Instance, _settings.Journal.TrimInterval);
                Timers.StartPeriodicTimer(RewakeTick.Instance, RewakeTick.Instance, _settings.Journal.SweepInterval);
                if (_settings.PassivateIdleAfter is { } idle)
                    Timers.StartPeriodicTimer(KeepAliveTick.Instance, KeepAliveTick.Instance, idle / 3);
                break;
        }
    }

    protected override void OnRecoveryFailure(Exception reason, object? message = null)
    {
        if (message is not null)
            base.OnRecoveryFailure(reason, message); // an event this log cannot apply is not an outage: Akka's error, in full
        else
            JournalFailed(reason, error: false, $"Shard log {PersistenceId} could not replay its events; it stops, and a counter of its shard starts it again");
    }

    /// <summary>
    /// A journal call failed. In an outage every log fails alike, and again each time a counter starts it: only the first
    /// failure since the journal last answered is logged with its cause, the others at debug level.
    /// </summary>
    private void JournalFailed(Exception cause, bool error, string what)
    {
        if (!_ledger.JournalFailures.Failed())
            _log.Debug("{0}: {1}: {2}", what, cause.GetType().Name, cause.Message);
        else if (error)
            _log.Error(cause, "{0} (further journal failures of the counter set are logged at debug level until the journal answers)", what);
        else
            _log.Warning(cause, "{0} (further journal failures of the counter set are logged at debug level until the journal answers)", what);
    }

    // Running and Stopping are behaviours, each a switch of what differs, falling back to what both do (Common).

    protected override void OnCommand(object message)
    {
        switch (message)
        {
            case JournalDelta delta:
                Group(delta, Sender);
                TryPersist(atOnce: false);
                break;
            case RoutedIncrements routed:
                TakeRouted(routed, Sender);
                TryPersist(atOnce: false);
                break;
            case OfferRoute offer:
                OpenRoute(offer, Sender);
                break;
            case ShardEventWritten written when _persisting is not null && written.Seq == _seq:
                Persisted(_persisting, written.Seq);
                TryPersist(atOnce: false);
                break;
            case ShardEventRejected rejected when _persisting is not null && rejected.Seq == _seq:
                Rejected(_persisting, rejected.Cause);
                TryPersist(atOnce: false);
                break;
            case Terminated terminated:
                // a counter gone with deltas its row may not hold: its key is woken, so they are written without a caller
                if (Detached(terminated.ActorRef) is { } unstored)
                {
                    Wake(unstored);
                    // the shard may hear of the stop after this wake and drop it (a dead letter): wake again soon, not only
                    // at the next sweep
                    Timers.StartSingleTimer(RewakeSoon, RewakeTick.Instance, TimeSpan.FromSeconds(1));
                }

                break;
            case GroupWindowTick:
                TryPersist(atOnce: false);
                break;
            case DeleteMessagesSuccess success:
                Trimmed(success);
                break;
            case DeleteMessagesFailure failure:
                TrimFailed(failure);
                break;
            case KeepAliveTick:
                if (_attached.Count > 0)
                    Region.Tell(new ShardJournalKeepAlive(_shardId));
                foreach (var key in _routes.TakeBusy())
                    Region.Tell(new WakeCounter(key));
                break;
            case StopCounter:
                Become(Stopping);
                BeginStop();
                break;
            default:
                Common(message);
                break;
        }
    }

    /// <summary>
    /// Handing off: persists what it is given at once (no group window), waits for its counters to stop (they store and
    /// report), trims, then stops; it is no longer kept alive.
    /// </summary>
    private void Stopping(object message)
    {
        switch (message)
        {
            case JournalDelta delta:
                Group(delta, Sender);
                TryPersist(atOnce: true);
                break;
            case RoutedIncrements routed:
                // every route closed as the stop began: the ingest stage sends these aggregates to their entities
                Sender.Tell(new RoutedAnswers(routed.BatchId, Enumerable.Repeat(RoutedOutcome.NotRouted, routed.Keys.Length).ToArray()));
                break;
            case OfferRoute offer:
                Sender.Tell(new CounterRouteClosed(offer.Key, offer.RouteId));
                break;
            case ShardEventWritten written when _persisting is not null && written.Seq == _seq:
                Persisted(_persisting, written.Seq);
                TryPersist(atOnce: true);
                ContinueStop();
                break;
            case ShardEventRejected rejected when _persisting is not null && rejected.Seq == _seq:
                Rejected(_persisting, rejected.Cause);
                TryPersist(atOnce: true);
                ContinueStop();
                break;
            case Terminated terminated:
                Detached(terminated.ActorRef);
                ContinueStop();
                break;
            case GroupWindowTick:
                TryPersist(atOnce: true);
                break;
            case DeleteMessagesSuccess success:
                Trimmed(success);
                ContinueStop();
                break;
            case DeleteMessagesFailure failure:
                TrimFailed(failure);
                Context.Stop(Self); // the next incarnation replays them and skips what the rows hold
                break;
            case KeepAliveTick:
                break;
            case StopCounter:
                BeginStop();
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
            case KeyStored stored:
                _trims.Stored(stored.Key, stored.UpToSeq);
                break;
            case ListUnstoredKeys:
                // a flush-all: a routed or replayed delta is here before its counter takes it, so its key may be known here only
                Sender.Tell(new UnstoredKeys(_trims.Keys.ToImmutableArray()));
                break;
            case ShardEventFailed failed when _persisting is not null && failed.Seq == _seq:
                // as a failed persist stops a persistent actor: whether the event is in the journal is unknown, so the next
                // incarnation replays to learn it; the counters attach to it again and send their deltas again
                JournalFailed(failed.Cause, error: true, $"Writing event {failed.Seq} of {PersistenceId} failed; the log stops and its next incarnation replays");
                Context.Stop(Self);
                break;
            case AttachToJournal attach:
                Attach(attach, Sender);
                break;
            case KeyEventsRead read:
                KeyEventsReadFor(read);
                break;
            case KeyEventsReadFailed failed:
                // as when a write fails: the next incarnation replays, and the counter attaches to it again
                JournalFailed(failed.Cause, error: true, $"Reading the events of [{failed.Key}] from {PersistenceId} failed; the log stops and its next incarnation replays");
                Context.Stop(Self);
                break;
            case CloseRoute close:
                CloseRouteOf(close, Sender);
                break;
            case TrimTick:
                Trim();
                break;
            case RewakeTick:
                // keys woken but not attached (their wake was lost, or their entity failed to start) are woken again
                foreach (var key in _woken)
                    Region.Tell(new WakeCounter(key));
                break;
            case WakeShardJournal or ShardJournalKeepAlive:
                break; // being started (or kept) is the point
            case StopTimedOut:
                _log.Warning("Shard log {0} stops with {1} counters still attached", PersistenceId, _attached.Count);
                Context.Stop(Self);
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    private void BeginStop()
    {
        Timers.StartSingleTimer(StopTimedOut.Instance, StopTimedOut.Instance, _settings.StoreWriter.WriteTimeout);
        foreach (var route in _routes.All.ToList())
            BeginClose(route);
        TryPersist(atOnce: true); // deltas held for the group window: their counters wait for them before they can stop
        ContinueStop();
    }

    private void Trimmed(DeleteMessagesSuccess success)
    {
        _ledger.JournalFailures.Succeeded(_log, "The shard-log journal");
        _trims.Trimmed(success.ToSequenceNr);
    }

    private void TrimFailed(DeleteMessagesFailure failure)
    {
        JournalFailed(failure.Cause, error: false, $"Deleting events of {PersistenceId} up to {failure.ToSequenceNr} failed; a later trim (or the next replay) deletes them");
        _trims.TrimFailed();
    }

    private void Rejected(List<GroupEntry> batch, Exception cause)
    {
        _persisting = null;
        _ledger.PersistsInFlightChanged(-1);
        var reason = $"journal rejected the write: {cause.GetType().Name}: {cause.Message}";
        foreach (var entry in batch)
        {
            if (entry.Route is { } route)
                RoutedHandedOn(route);
            else
                entry.Counter.Tell(new DeltaRejected(reason));
        }

        AnswerBatches(_persistingAnswers, new RoutedOutcome(RoutedOutcomeKind.Refused, ErrorCode.StoreFailure, reason));
        Recycle(batch);
    }

    /// <summary>An answered persist's list becomes the next group's.</summary>
    private void Recycle(List<GroupEntry> batch)
    {
        batch.Clear();
        _spare = batch;
    }

    /// <summary>A counter's own delta for the next event; the bound of its route, if it has one, grows with it.</summary>
    private void Group(JournalDelta delta, IActorRef counter)
    {
        _group.Add(new GroupEntry(counter, new KeyDelta(delta.Key, delta.Delta, delta.Requests)));
        if (_routes.Of(delta.Key, counter) is { Closing: false } route && ShardLogRoutes.Journaling(route, delta.Delta))
            BeginClose(route);
    }

    /// <summary>
    /// Opens a route for an attached counter; the ingest stage hears of it from this log, so that its routed aggregates and
    /// the route's closing come to it in one order.
    /// </summary>
    private void OpenRoute(OfferRoute offer, IActorRef counter)
    {
        // only the key's counter now (so an attached one): a counter replaced since it attached is refused, so an open
        // route's counter is its key's counter until the route closes (every change of a key's counter closes its route)
        if (!_counters.TryGetValue(offer.Key, out var current) || !current.Equals(counter)
            || _routes.TryOpen(offer.Key, counter, offer.Ingest, offer.RouteId, offer.Magnitude, offer.Inbox) is not { } route)
        {
            counter.Tell(new CounterRouteClosed(offer.Key, offer.RouteId));
            return;
        }

        offer.Ingest.Tell(new RouteOpened(offer.Key, route));
    }

    /// <summary>
    /// The routed aggregates of one drain: each taken into the next event if its key's route is open, else answered
    /// <see cref="RoutedOutcomeKind.NotRouted"/>. The batch is answered once, with the persist of what was taken.
    /// </summary>
    private void TakeRouted(RoutedIncrements routed, IActorRef ingest)
    {
        var outcomes = new RoutedOutcome[routed.Keys.Length];
        var taken = false;
        for (var i = 0; i < outcomes.Length; i++)
        {
            var key = routed.Keys[i];
            switch (_routes.TryTake(key, routed.Routes?[i] as ShardLogRoutes.Route, ingest, routed.Deltas[i], out var route))
            {
                case RouteTake.Taken:
                    _group.Add(new GroupEntry(route!.Counter, new KeyDelta(key, routed.Deltas[i]), route, routed.Increments[i]));
                    taken = true;
                    break;
                case RouteTake.BoundReached:
                    BeginClose(route!);
                    outcomes[i] = RoutedOutcome.NotRouted;
                    break;
                default:
                    outcomes[i] = RoutedOutcome.NotRouted;
                    break;
            }
        }

        if (taken)
            _groupAnswers.Add(new BatchAnswer(ingest, routed.BatchId, outcomes));
        else
            ingest.Tell(new RoutedAnswers(routed.BatchId, outcomes));
    }

    private void CloseRouteOf(CloseRoute close, IActorRef counter)
    {
        if (_routes.Of(close.Key, counter) is { } route && route.RouteId == close.RouteId)
            BeginClose(route);
        else
            counter.Tell(new CounterRouteClosed(close.Key, close.RouteId)); // already closed, or a log that never opened it
    }

    /// <summary>
    /// Takes no more aggregates through <paramref name="route"/> and tells its ingest stage so; its counter hears that it is
    /// closed once every delta taken through it was handed on.
    /// </summary>
    private void BeginClose(ShardLogRoutes.Route route)
    {
        if (ShardLogRoutes.BeginClose(route))
            route.Ingest.Tell(new RouteClosed(route.Key));
        if (_routes.TryFinish(route))
            TellClosed(route);
    }

    /// <summary>A routed delta was handed on (or refused): a closing route may be done.</summary>
    private void RoutedHandedOn(ShardLogRoutes.Route route)
    {
        if (_routes.Forwarded(route))
            TellClosed(route);
    }

    /// <summary>Tells a closed route's counter, unless it has stopped meanwhile.</summary>
    private void TellClosed(ShardLogRoutes.Route route)
    {
        if (_attached.ContainsKey(route.Counter))
            route.Counter.Tell(new CounterRouteClosed(route.Key, route.RouteId));
    }

    /// <summary>A counter stopped: its route closes; deltas still on their way to it go to its next incarnation.</summary>
    /// <returns>
    /// The counter's key when it stopped with deltas its row may not hold and the key has no counter since (the next one
    /// reads them from the journal).
    /// </returns>
    private string? Detached(IActorRef counter)
    {
        if (!_attached.Remove(counter, out var key))
            return null;
        var replaced = _counters.TryGetValue(key, out var current) && !current.Equals(counter);
        if (!replaced)
            _counters.Remove(key);
        if (_routes.Of(key, counter) is { } route)
            BeginClose(route);
        // a clean stop reports its row first (KeyStored); a killed or failed counter, or one whose last write failed, does
        // not. A counter that replaced it before this stop was heard of read the journal when it attached
        if (replaced || !_trims.HasUnstored(key))
            return null;
        _readOnAttach.Add(key);
        return key;
    }

    /// <summary>
    /// Hands a persisted delta its key's counter did not send itself to that counter; with no counter attached (it stopped
    /// meanwhile) the delta waits for the key's next incarnation like a replayed one, and the key is woken. Routed increments
    /// are <paramref name="counted"/> already: the ingest stage counted them in the increments metric.
    /// </summary>
    private void HandOn(string key, long seq, long delta, long increments, ImmutableArray<RequestDelta> requests = default, bool counted = false)
    {
        if (_counters.TryGetValue(key, out var counter))
        {
            counter.Tell(new RoutedDeltaJournaled(seq, delta, increments, requests) { Counted = counted });
            return;
        }

        KeepForAttach(key, new JournaledDelta(seq, delta, requests));
        Wake(key);
    }

    /// <summary>
    /// Hands a persisted routed delta to the route's counter through its inbox: the counter is told only when the inbox was
    /// empty, so a busy key costs its counter one message per take, not one per event. A counter replaced meanwhile, or gone,
    /// gets it as any other delta it did not send itself.
    /// </summary>
    private void HandOnRouted(ShardLogRoutes.Route route, long seq, long delta, long increments)
    {
        // an open route's counter is its key's counter (see OpenRoute): only a closing one needs the lookup, which was paid
        // per key and event
        if (route.Closing && (!_counters.TryGetValue(route.Key, out var counter) || !counter.Equals(route.Counter)))
        {
            HandOn(route.Key, seq, delta, increments, counted: true);
            return;
        }

        if (route.Inbox.Add(seq, delta, increments))
            route.Counter.Tell(RoutedInboxFilled.Instance);
    }

    /// <summary>Wakes <paramref name="key"/> (within <c>recovery-parallelism</c>) to take what this log keeps for it.</summary>
    private void Wake(string key)
    {
        if (!_woken.Contains(key))
            _toWake.Enqueue(key);
        WakeMore();
    }

    /// <summary>An event of <paramref name="key"/> its counter takes when it attaches (replayed, or routed to a counter gone).</summary>
    private void KeepForAttach(string key, JournaledDelta e)
    {
        if (!_recovered.TryGetValue(key, out var events))
            _recovered[key] = events = new List<JournaledDelta>();
        events.Add(e);
    }

    private static void AnswerBatches(List<BatchAnswer> answers, RoutedOutcome outcome)
    {
        foreach (var answer in answers)
        {
            for (var i = 0; i < answer.Outcomes.Length; i++)
                if (answer.Outcomes[i].Kind == RoutedOutcomeKind.Waiting)
                    answer.Outcomes[i] = outcome;
            answer.Ingest.Tell(new RoutedAnswers(answer.BatchId, answer.Outcomes));
        }

        answers.Clear();
    }

    private IActorRef Region => _region ??= ClusterSharding.Get(Context.System).ShardRegion(_settings.TypeName);

    private void Attach(AttachToJournal attach, IActorRef counter)
    {
        var key = attach.CounterKey;
        var fresh = _attached.TryAdd(counter, key);
        if (fresh)
            Context.Watch(counter);
        // the counter before may not be detached yet (its Terminated still on its way)
        var replaced = _counters.TryGetValue(key, out var before) && !before.Equals(counter);
        _counters[key] = counter;
        // a counter attaching (again, or anew) starts without a route: close any left (its deltas still reach the key)
        if (_routes.Of(key) is { } stale)
            BeginClose(stale);
        if (_reading.TryGetValue(key, out var reader) && reader.Equals(counter))
            return; // asked again while its events are read: the read answers it
        var read = _readOnAttach.Remove(key) | replaced;
        if (fresh && read && _trims.HasUnstored(key))
        {
            _reading[key] = counter;
            // the counter before stopped without storing deltas this log had handed it; the journal has them (and whatever
            // was kept for this attach): the answer waits for the read
            _recovered.Remove(key);
            Context.ActorOf(ShardLogKeyReader.Props(Journal,
                PersistenceId, key, counter, attach.AfterSeq + 1, _confirmedSeq, _settings.StoreWriter.WriteTimeout));
        }
        else
        {
            var events = ImmutableArray<JournaledDelta>.Empty;
            if (_recovered.Remove(key, out var recovered))
                events = recovered.Where(e => e.Seq > attach.AfterSeq).ToImmutableArray();
            counter.Tell(new JournalAttached(_confirmedSeq, events));
        }

        if (_woken.Remove(key))
            WakeMore();
    }

    private void KeyEventsReadFor(KeyEventsRead read)
    {
        if (_reading.TryGetValue(read.Key, out var reader) && reader.Equals(read.Counter))
            _reading.Remove(read.Key);
        if (_attached.TryGetValue(read.Counter, out var key) && key == read.Key)
            read.Counter.Tell(new JournalAttached(_confirmedSeq, read.Events));
    }

    /// <summary>
    /// Replayed keys that the set's <c>number-of-shards</c> now places in other shards: it changed while this log held
    /// their events. Their counters attach to the logs of their new shards and would never take these events, so they are
    /// not woken; the events stay in the journal (their keys never confirm them stored, so no trim passes them) and the
    /// error says how to get them applied.
    /// </summary>
    private void KeepMisplacedKeysInTheJournal()
    {
        var shards = new CounterMessageExtractor(_settings.NumberOfShards);
        List<string>? misplaced = null;
        foreach (var key in _recovered.Keys)
        {
            if (shards.ShardOfKey(key) != _shardId)
                (misplaced ??= new List<string>()).Add(key);
        }

        if (misplaced is null)
            return;
        foreach (var key in misplaced)
            _recovered.Remove(key);
        _log.Error("Shard log {0} holds events of {1} keys that number-of-shards = {2} places in other shards (e.g. [{3}] in shard {4}): " +
                   "it changed while the journal held events. They stay in the journal, not applied: start the set with the " +
                   "number-of-shards they were written with, flush it (FlushAllAsync; POST /counters/flush on the Host), then change it.",
            PersistenceId, misplaced.Count, _settings.NumberOfShards, misplaced[0], shards.ShardOfKey(misplaced[0]));
    }

    /// <summary>Wakes replayed keys until <c>journal.recovery-parallelism</c> are woken and not yet attached.</summary>
    private void WakeMore()
    {
        while (_woken.Count < _settings.Journal.RecoveryParallelism && _toWake.TryDequeue(out var key))
        {
            if (!_recovered.ContainsKey(key) && !_readOnAttach.Contains(key))
                continue; // attached meanwhile
            _woken.Add(key);
            Region.Tell(new WakeCounter(key));
        }
    }

    /// <param name="atOnce">A stopping log does not wait for the group window.</param>
    private void TryPersist(bool atOnce)
    {
        if (_persisting is not null || _group.Count == 0)
            return;
        // persists of one log start at most one group-window apart: each event costs the journal about the same CPU
        // however many deltas it carries, so fewer, fuller events are what lets the journal keep up
        // the log's first persist goes at once: a Stopwatch timestamp counts from the machine's boot, which on a fresh
        // machine is less than a window ago
        var wait = _lastPersistStarted == 0
            ? TimeSpan.Zero
            : _settings.Journal.GroupWindow - System.Diagnostics.Stopwatch.GetElapsedTime(_lastPersistStarted);
        if (!atOnce && wait > TimeSpan.Zero)
        {
            if (!Timers.IsTimerActive(GroupWindowTick.Instance))
                Timers.StartSingleTimer(GroupWindowTick.Instance, GroupWindowTick.Instance, wait);
            return;
        }

        _lastPersistStarted = System.Diagnostics.Stopwatch.GetTimestamp();
        var batch = _group;
        // the two lists take turns: a new one per persist, grown delta by delta, was paid per increment
        _group = _spare ?? new List<GroupEntry>(batch.Count);
        _spare = null;
        _persisting = batch;
        (_persistingAnswers, _groupAnswers) = (_groupAnswers, _persistingAnswers);
        // the ingest stages hold their next drain while a batch of theirs waits for an event: this one has it now
        foreach (var answer in _persistingAnswers)
            answer.Ingest.Tell(new RoutedPersisting(answer.BatchId));
        _ledger.PersistsInFlightChanged(1);
        var deltas = new KeyDelta[batch.Count]; // the event's own array, exactly its size (it lives on in the journal's write)
        for (var i = 0; i < deltas.Length; i++)
            deltas[i] = batch[i].Delta;
        _writer.Tell(new WriteShardEvent(PersistenceId, ++_seq,
            new ShardIncrements(System.Runtime.InteropServices.ImmutableCollectionsMarshal.AsImmutableArray(deltas)), _writerGuid));
    }

    private void Persisted(List<GroupEntry> batch, long seq)
    {
        _ledger.StoreAnswered(); // the counters of the next outage warn again
        _confirmedSeq = seq;
        _persisting = null;
        _ledger.PersistsInFlightChanged(-1);
        foreach (var entry in batch)
        {
            if (entry.Route is { } route)
            {
                _trims.Unstored(route.Key, seq, ref route.Unstored);
                HandOnRouted(route, seq, entry.Delta.Delta, entry.Routed);
                RoutedHandedOn(route);
            }
            else
            {
                _trims.Unstored(entry.Delta.Key, seq);
                if (_counters.TryGetValue(entry.Delta.Key, out var current) && current.Equals(entry.Counter))
                    entry.Counter.Tell(new DeltaJournaled(seq, entry.Delta.Delta));
                else
                {
                    // its counter stopped, or was replaced, before this answer (its callers heard nothing): what the
                    // journal holds is applied, by the key's counter now or its next one, as a replay after a crash would
                    HandOn(entry.Delta.Key, seq, entry.Delta.Delta, 1, entry.Delta.Requests);
                }
            }
        }

        // after the counters: an ingest stage that hears its increments acknowledged and sends the key a read finds the
        // read behind the delta in the counter's mailbox
        AnswerBatches(_persistingAnswers, RoutedOutcome.Accepted);
        Recycle(batch);
    }

    /// <summary>Deletes the events below the oldest one that still holds a delta not stored.</summary>
    /// <returns>Whether a delete is in flight.</returns>
    private bool Trim()
    {
        if (_trims.Trimming)
            return true;
        if (_trims.BeginTrim(_confirmedSeq) is not { } upTo)
            return false;
        // through the node's journal writer, so the delete never runs at once with a write (Eventsourced.DeleteMessages would
        // also refuse sequence numbers above those this actor persisted itself); the writer hands back the journal's answer
        _writer.Tell(new TrimShardLog(PersistenceId, upTo));
        return true;
    }

    /// <summary>A stopping log persists what it was given, waits for its counters to stop (they store and report), trims, then stops.</summary>
    private void ContinueStop()
    {
        if (_persisting is not null || _group.Count > 0 || _attached.Count > 0)
            return;
        if (!Trim())
            Context.Stop(Self);
    }

    /// <summary>A delta in the next event: a counter's own (answered to it), or routed (<see cref="Routed"/> increments through <see cref="Route"/>).</summary>
    private readonly record struct GroupEntry(IActorRef Counter, KeyDelta Delta, ShardLogRoutes.Route? Route = null, long Routed = 0);

    /// <summary>A routed batch of an ingest stage, answered once the event holding what was taken is persisted.</summary>
    private readonly record struct BatchAnswer(IActorRef Ingest, long BatchId, RoutedOutcome[] Outcomes);

    private sealed class TrimTick
    {
        public static readonly TrimTick Instance = new();

        private TrimTick()
        {
        }
    }

    private sealed class GroupWindowTick
    {
        public static readonly GroupWindowTick Instance = new();

        private GroupWindowTick()
        {
        }
    }

    private sealed class RewakeTick
    {
        public static readonly RewakeTick Instance = new();

        private RewakeTick()
        {
        }
    }

    private sealed class KeepAliveTick
    {
        public static readonly KeepAliveTick Instance = new();

        private KeepAliveTick()
        {
        }
    }

    private sealed class StopTimedOut
    {
        public static readonly StopTimedOut Instance = new();

        private StopTimedOut()
        {
        }
    }
}
