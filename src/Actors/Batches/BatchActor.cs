using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using Akka.Actor;
using Akka.Event;
using Akka.WriteBehind.Internal;
using Akka.WriteBehind.Queues;

namespace Akka.WriteBehind.Batches;

/// <summary>
/// INTERNAL API
/// <para>
/// The sharded entity of one resource key: the cluster's single owner of that key. It runs the key's operations in batches
/// (the elgopher/batch idea): the first operation for an idle key opens a batch, which loads the resource (unless
/// <c>keep-loaded</c> still holds it), runs operations one at a time in arrival order through the handler, stays open until
/// <c>min-duration</c> after its first operation was called (<see cref="RunOperation.CalledAt"/>) (or until <c>max-operations</c> ran), then saves the resource once and answers every caller: its result,
/// its own rejection, or the batch's failure. <c>max-duration</c>, counted from the opening, bounds load and save together.
/// </para>
/// <para>
/// Operations that arrive while the batch loads wait in a bounded queue (<c>max-pending</c>) and run once it is loaded;
/// those that arrive while it saves wait for the next batch, whose <c>min-duration</c> counts from the first of them, so the
/// wait through the save is part of it. An operation still running when <c>min-duration</c> passes ends
/// its batch: the operations behind it go into the next one. A failed load fails the whole batch: every operation queued
/// for it, and every one that joins it until <c>min-duration</c>, gets the failure and nothing is kept; the next operation
/// after that opens a batch that loads again. (elgopher/batch fails only the operation that triggered the load and moves the
/// others to a fresh batch; here a load's failure reaches the batch like a save's, and a failing store is not hammered.)
/// A save still running at <c>max-duration</c> has its cancellation token cancelled, and the callers are answered with what
/// the store then says: a store that honours the token rolls back and they get <see cref="ErrorCode.Timeout"/> ("nothing
/// kept"); one that committed anyway returns the saved resource and they get their results. Callers are never told
/// "nothing kept" about a save that may still commit; the next batch opens only after that store call returned.
/// </para>
/// <para>An operation with a request id that this key ran and saved within <c>idempotency.window</c> is answered with that
/// run's result and not applied again; a repeat whose first run is in the same batch gets the first's answer with it. Only
/// operations that ran and whose batch was saved are remembered, with the resource when the store keeps request ids
/// (<see cref="IIdempotentResourceStore{TResource}"/>, read on the entity's first load), else in this entity's memory.</para>
/// <para>Hand-off, passivation and CoordinatedShutdown deliver <see cref="StopBatchEntity"/>: the open batch closes at once and
/// is saved, queued operations run in further batches, then the entity stops; operations arriving after it are refused
/// with <see cref="ErrorCode.ShuttingDown"/>.</para>
/// <para>Operations of this node's grouping stage may come without the shard's hop (<see cref="BatchIngestActor"/>): the entity
/// offers that route when it took the stage's last send through the shard, and a stopping entity closes it before it stops,
/// running what the stage told it directly until the stage answered (those operations are older than any the shard holds
/// for the key).</para>
/// </summary>
internal sealed class BatchActor<TResource> : UntypedActor, IWithTimers where TResource : notnull
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly string _key;
    private readonly BatchSettings _settings;
    private readonly IResourceStore<TResource> _store;
    private readonly OperationHandler<TResource> _handler;
    private readonly IActorRef? _storeWriter;
    private readonly DeadlineTimer _deadlines; // min-duration, to a tenth of a millisecond (the scheduler's tick is 10 ms)
    private readonly BatchMetricsTap _metricsTap;
    private readonly QueueLedger _queues;  // the node's depth for this type: keys with queued operations
    private readonly RequestLedger _ledger; // the node's count of remembered request ids of this type
    private readonly RequestMemory _requests;
    private readonly bool _storeKeepsRequests;
    private bool _requestsKnown;           // bookkeeping, not behaviour: _requests holds what the store holds for the key (else the next load reads it)

    // a plain queue, no per-operation node or id index: a cancellation (rare) searches it instead
    private readonly Queue<Pending> _queue = new();
    // the answers of the ending batch to grouped operations, one list per sender (OperationReplies)
    private readonly List<(IActorRef To, List<IOperationReply> Replies)> _groupedAnswers = new(1);
    private Batch? _batch;           // the batch of the current behaviour: set in every one but Idle and Stopped
    private long _lastBatchId;
    private long _lastBatchEnded;    // Stopwatch timestamp
    private long _started;           // Stopwatch timestamp: idle since then when no batch has ended yet
    private Batch? _spareBatch;      // the ended batch, reused by the next (kept only while its list is small: it stays with an idle entity)
    private Held? _held;             // keep-loaded: the resource as stored after the last successful batch
    private bool _countedActive;     // bookkeeping, not behaviour: this key is one of the node's active keys (its queue is not empty)
    private IActorRef? _routeFrom;   // the grouping stage offered a direct route and has not answered its closing yet
    private long _offeredSend;       // the stage's send through the shard that the last offer named: one offer per send
    private long _closeId;           // names this entity's route closing, so an answer to an earlier incarnation's is not taken
    // the behaviours, each made once per entity when first entered: Become(Loading) would make a delegate per batch
    private Receive? _idle, _loading, _open, _saving, _loadFailed, _loadingToStop, _savingToStop, _closingRoute, _stopped;

    public BatchActor(string key, BatchSettings settings, IResourceStore<TResource> store, OperationHandler<TResource> handler, IActorRef? storeWriter,
        QueueLedger queues, RequestLedger ledger, DeadlineTimer deadlines, BatchMetricsTap metricsTap)
    {
        _deadlines = deadlines;
        _metricsTap = metricsTap;
        _queues = queues;
        _ledger = ledger;
        _requests = new RequestMemory(ledger, settings.Idempotency.Window);
        _storeKeepsRequests = storeWriter is not null && store is IIdempotentResourceStore<TResource>;
        _requestsKnown = !_storeKeepsRequests;
        _key = key;
        _settings = settings;
        _store = store;
        _handler = handler;
        _storeWriter = storeWriter;
    }

    public ITimerScheduler Timers { get; set; } = null!;

    // A producer, not Props.Create(() => new ...): the expression form builds an expression tree and reads its arguments
    // back by reflection for every entity, and an entity is created per key.
    public static Props Props(string key, BatchSettings settings, IResourceStore<TResource> store, OperationHandler<TResource> handler, IActorRef? storeWriter,
        QueueLedger queues, RequestLedger ledger, DeadlineTimer deadlines, BatchMetricsTap metricsTap) =>
        Akka.Actor.Props.CreateBy(new Producer(() => new BatchActor<TResource>(key, settings, store, handler, storeWriter, queues, ledger, deadlines, metricsTap)));

    // Each state is a behaviour (Become), and each behaviour a switch statement, not a ReceiveActor handler list: an entity is
    // created per resource key, and building its handler list per activation was a measurable share of a key's first-touch
    // cost. A batch's own message that does not apply in the current state (a load or save answer or a timer of a batch that
    // already ended or moved on) is ignored. Stopping has behaviours of its own only for the states it waits in (a load, a
    // save); the transitions it shares with the running entity take it as an argument, so no flag outlives a message.

    protected override void OnReceive(object message)
    {
        if (!Idle(message))
            Unhandled(message);
    }

    /// <summary>No batch, and nothing queued: an operation opens a batch.</summary>
    private bool Idle(object message)
    {
        switch (message)
        {
            case RunOperation run:
                if (Queue(run))
                    OpenNextBatch(stopping: false);
                return true;
            case RunOperations group:
                QueueGroup(group, Sender);
                if (_queue.Count > 0)
                    OpenNextBatch(stopping: false);
                return true;
            case CancelOperation cancel:
                Cancel(cancel);
                return true;
            case StopBatchEntity:
                CloseDirectRoute();
                OpenNextBatch(stopping: true); // nothing is queued: stops once no operation can come directly
                return true;
            case PassivateIfIdle:
                PassivateWhenIdleLongEnough();
                return true;
            default:
                return IsStale(message);
        }
    }

    /// <summary>The batch's resource is being loaded; operations queue for it.</summary>
    private bool Loading(object message)
    {
        switch (message)
        {
            case MinDurationPassed passed when IsCurrent(passed.BatchId):
                Current.MinDurationPassed = true; // the batch closes as soon as it has run what is queued
                return true;
            case StopBatchEntity:
                CloseDirectRoute();
                Context.Become(_loadingToStop ??= LoadingToStop); // the loaded batch closes at once
                return true;
            default:
                return LoadAnswer(message, stopping: false) || Queued(message) || IsStale(message);
        }
    }

    /// <summary>What a loading batch waits for, answered alike whether the entity is stopping or not.</summary>
    private bool LoadAnswer(object message, bool stopping)
    {
        switch (message)
        {
            case ResourceLoaded<TResource> loaded when IsCurrent(loaded.BatchId):
                OnLoaded(Current, loaded, stopping);
                return true;
            case ResourceLoadFailed failed when IsCurrent(failed.BatchId):
                OnLoadFailed(Current, failed, stopping);
                return true;
            case MaxDurationPassed passed when IsCurrent(passed.BatchId):
                LoadTimedOut(Current, stopping);
                return true;
            default:
                return false;
        }
    }

    /// <summary>The batch is loaded and takes operations as they come; nothing is queued and it has room.</summary>
    private bool Open(object message)
    {
        switch (message)
        {
            case RunOperation run:
                if (Accept(run, Sender))
                    RunInOpen(Current, new Pending(run, Sender)); // runs at once: its arrival time is never read
                return true;
            case RunOperations group:
                RunGroupInOpen(Current, group, Sender);
                return true;
            case CancelOperation cancel:
                Cancel(cancel);
                return true;
            case MinDurationPassed passed when IsCurrent(passed.BatchId):
                Current.MinDurationPassed = true;
                Close(Current, stopping: false);
                return true;
            case MaxDurationPassed passed when IsCurrent(passed.BatchId):
                FailBatch(Current, ErrorCode.Timeout, MaxDurationMessage(), stopping: false);
                return true;
            case StopBatchEntity:
                CloseDirectRoute();
                Close(Current, stopping: true);
                return true;
            default:
                return IsStale(message);
        }
    }

    /// <summary>The batch is being saved; operations queue for the next one.</summary>
    private bool Saving(object message)
    {
        if (message is not StopBatchEntity)
            return SaveAnswer(message, stopping: false) || Queued(message) || IsStale(message);
        CloseDirectRoute();
        Context.Become(_savingToStop ??= SavingToStop); // the next batch opens, or the entity stops, when it returns
        return true;
    }

    /// <summary>What a saving batch waits for, answered alike whether the entity is stopping or not.</summary>
    private bool SaveAnswer(object message, bool stopping)
    {
        switch (message)
        {
            case ResourceSaved<TResource> saved when IsCurrent(saved.BatchId):
                OnSaved(Current, saved, stopping);
                return true;
            case ResourceSaveFailed failed when IsCurrent(failed.BatchId):
                OnSaveFailed(Current, failed, stopping);
                return true;
            case MaxDurationPassed passed when IsCurrent(passed.BatchId):
                SaveOverdue(Current);
                return true;
            default:
                return false;
        }
    }

    /// <summary>
    /// The load failed: the batch stays until <c>min-duration</c> (or <c>max-duration</c>), and every operation that joins it
    /// shares the failure.
    /// </summary>
    private bool LoadFailed(object message)
    {
        switch (message)
        {
            case RunOperation run:
                if (Accept(run, Sender))
                    ShareFailure(Current, new Pending(run, Sender));
                return true;
            case RunOperations group:
                foreach (var run in group.Operations ?? [])
                {
                    if (InGroup(run, Sender) && Accept(run, Sender))
                        ShareFailure(Current, new Pending(run, Sender));
                }

                return true;
            case CancelOperation cancel:
                Cancel(cancel);
                return true;
            case MinDurationPassed passed when IsCurrent(passed.BatchId):
                EndBatch(Current, stopping: false);
                return true;
            case MaxDurationPassed passed when IsCurrent(passed.BatchId):
                EndBatch(Current, stopping: false);
                return true;
            case StopBatchEntity:
                CloseDirectRoute();
                EndBatch(Current, stopping: true);
                return true;
            default:
                return IsStale(message);
        }
    }

    /// <summary>Stopping, the batch's resource is being loaded: the batch closes once loaded; new operations are refused.</summary>
    private bool LoadingToStop(object message) =>
        LoadAnswer(message, stopping: true) || TakenWhileStopping(message) || message is StopBatchEntity || IsStale(message);

    /// <summary>Stopping, the batch is being saved: then the queued operations run in further batches; new ones are refused.</summary>
    private bool SavingToStop(object message) =>
        SaveAnswer(message, stopping: true) || TakenWhileStopping(message) || message is StopBatchEntity || IsStale(message);

    /// <summary>
    /// Stopping with nothing queued, the route's closing not answered yet: the grouping stage may still tell operations
    /// directly. They run in further batches once it answered, then the entity stops.
    /// </summary>
    private bool ClosingRoute(object message)
    {
        switch (message)
        {
            case RouteClosed closed when closed.CloseId == _closeId:
                _routeFrom = null;
                OpenNextBatch(stopping: true);
                return true;
            default:
                return TakenWhileStopping(message) || message is StopBatchEntity || IsStale(message);
        }
    }

    /// <summary>
    /// A stopping entity refuses new operations, but runs those the grouping stage told it directly before it answered the
    /// route's closing: they are older than anything the shard holds for the key, so none may wait for the next entity.
    /// </summary>
    private bool TakenWhileStopping(object message)
    {
        switch (message)
        {
            case RunOperation run when IsDirect(run):
                Queue(run);
                return true;
            case RunOperations { Operations: [var first, ..] } group when IsDirect(first):
                QueueGroup(group, Sender);
                return true;
            case RouteClosed closed when closed.CloseId == _closeId:
                _routeFrom = null;
                return true;
            default:
                return Refused(message);
        }
    }

    private static bool IsDirect(RunOperation? run) => run?.LocalCall is { SentDirect: true };

    /// <summary>The stopping entity's first step: no operation may come directly once the stage answered.</summary>
    private void CloseDirectRoute()
    {
        if (_routeFrom is { } stage)
            stage.Tell(new CloseRoute(_key, Self, _closeId = Stopwatch.GetTimestamp()));
    }

    /// <summary>Stopped (Context.Stop is under way): an operation that still reaches it is refused.</summary>
    private bool Stopped(object message) => Refused(message) || message is StopBatchEntity || IsStale(message);

    /// <summary>While a batch loads or saves, operations queue for the batch to come (or, cancelled, leave the queue).</summary>
    private bool Queued(object message)
    {
        switch (message)
        {
            case RunOperation run:
                Queue(run);
                return true;
            case RunOperations group:
                QueueGroup(group, Sender);
                return true;
            case CancelOperation cancel:
                Cancel(cancel);
                return true;
            default:
                return false;
        }
    }

    /// <summary>A stopping entity refuses new operations; queued ones may still be cancelled.</summary>
    private bool Refused(object message)
    {
        switch (message)
        {
            case RunOperation run:
                Refuse(run, Sender);
                return true;
            case RunOperations group:
                RefuseGroup(group, Sender);
                return true;
            case CancelOperation cancel:
                Cancel(cancel);
                return true;
            default:
                return false;
        }
    }

    /// <summary>A batch's own message in a state where it does not apply (an idle check while a batch runs, too): ignored.</summary>
    private static bool IsStale(object message) =>
        message is ResourceLoaded<TResource> or ResourceLoadFailed or ResourceSaved<TResource> or ResourceSaveFailed
            or MinDurationPassed or MaxDurationPassed or PassivateIfIdle or RouteClosed;

    protected override void PreStart()
    {
        _started = Stopwatch.GetTimestamp();
        if (_settings.PassivateIdleAfter is { } idle)
            Timers.StartPeriodicTimer(PassivateIfIdle.Instance, PassivateIfIdle.Instance, IdleCheckInterval(idle));
    }

    /// <summary>How often an entity looks at its idle time: a quarter of <c>passivate-idle-after</c>, so it is passivated
    /// after between one and one and a quarter of it.</summary>
    private static TimeSpan IdleCheckInterval(TimeSpan passivateIdleAfter) => passivateIdleAfter / 4;

    /// <summary>Idle since its last batch ended (or since it started) for <c>passivate-idle-after</c>: asks its shard to
    /// passivate it, which delivers <see cref="StopBatchEntity"/> and holds the key's new operations until it stopped.</summary>
    private void PassivateWhenIdleLongEnough()
    {
        if (Stopwatch.GetElapsedTime(Math.Max(_started, _lastBatchEnded)) < _settings.PassivateIdleAfter!.Value)
            return;
        Timers.Cancel(PassivateIfIdle.Instance);
        Context.Parent.Tell(new Akka.Cluster.Sharding.Passivate(StopBatchEntity.Instance));
    }

    private bool IsCurrent(long batchId) => _batch is { } batch && batch.Id == batchId;

    // the batch of every behaviour but Idle and Stopped
    private Batch Current => _batch!;

    protected override void PostStop()
    {
        // a crash or a restart (a normal stop waits for the route's closing): what is told to this actor from now on is lost
        _routeFrom?.Tell(new ForgetRoute(_key, Self));

        // only an abnormal stop (a crash, or the system terminating) leaves callers unanswered: tell them
        if (_batch is { } batch)
        {
            var (code, message) = batch.Saving
                ? (ErrorCode.Timeout, $"resource [{_key}] stopped while its batch was being saved; the outcome is unknown")
                : (ErrorCode.ShuttingDown, $"resource [{_key}] stopped before its batch was saved; nothing of it was kept");
            foreach (var ran in batch.Ran)
                Reply(ran.Operation, Failed(ran.Operation.Run, code, message));
            _ledger.Release(batch.NewRequests);
            _log.Warning("Batch entity [{EntityKey}] stopped with batch {BatchId} unfinished ({Operations} operations)", _key, batch.Id, batch.Ran.Count);
        }

        _requests.Clear();
        foreach (var pending in _queue)
            Reply(pending, Failed(pending.Run, ErrorCode.ShuttingDown, $"resource [{_key}] stopped before the operation ran"));
        _queues.QueuedChanged(-_queue.Count);
        _queue.Clear();
        QueueShrank();
    }

    /// <summary>The operations of a group queue one after the other first, so that the batch they open takes them all.</summary>
    private void QueueGroup(RunOperations group, IActorRef replyTo)
    {
        var arrivedAt = GroupArrivedAt(group);
        foreach (var run in group.Operations ?? [])
        {
            if (InGroup(run, replyTo) && Accept(run, replyTo))
                Enqueue(new Pending(run, replyTo, group.GroupReplies, arrivedAt));
        }
    }

    /// <summary>A group runs in the open batch until that is full (or ran past min-duration); the rest queue for the next.</summary>
    private void RunGroupInOpen(Batch batch, RunOperations group, IActorRef replyTo)
    {
        long? arrivedAt = null; // read only by the operations that queue for the next batch: the clocks are read for them alone
        var ending = false;
        foreach (var run in group.Operations ?? [])
        {
            if (!InGroup(run, replyTo) || !Accept(run, replyTo))
                continue;
            if (ending)
            {
                Enqueue(new Pending(run, replyTo, group.GroupReplies, arrivedAt ??= GroupArrivedAt(group)));
                continue;
            }

            Execute(batch, new Pending(run, replyTo, group.GroupReplies));
            ending = EndsAfterThis(batch);
        }

        if (ending)
            Close(batch, stopping: false);
    }

    private void RefuseGroup(RunOperations group, IActorRef replyTo)
    {
        foreach (var run in group.Operations ?? [])
        {
            if (InGroup(run, replyTo))
                Refuse(run, replyTo);
        }
    }

    /// <summary>Whether a group's operation is one, for this key; one of another key is refused.</summary>
    private bool InGroup([NotNullWhen(true)] RunOperation? run, IActorRef replyTo)
    {
        if (run is null)
            return false;
        if (run.Key == _key)
            return true;
        Reply(new Pending(run, replyTo), Failed(run, ErrorCode.InvalidArgument, $"the operation's key [{run.Key}] is not the group's key [{_key}]"));
        return false;
    }

    /// <summary>
    /// When an operation counts as arrived for <c>min-duration</c>: when it was called, if its caller said (at most
    /// <c>min-duration</c> back: beyond it the batch closes at once anyway); else now.
    /// </summary>
    private long ArrivedAt(RunOperation run)
    {
        var now = Stopwatch.GetTimestamp();
        if (run.CalledAt == default)
            return now;
        var waited = DateTime.UtcNow - AsUtc(run.CalledAt);
        if (waited <= TimeSpan.Zero)
            return now;
        if (waited > _settings.MinDuration)
            waited = _settings.MinDuration;
        return now - (long)(waited.TotalSeconds * Stopwatch.Frequency);
    }

    // the group's operations count from the call of its first, the oldest: one clock read per group, not per operation
    private long GroupArrivedAt(RunOperations group) =>
        group.Operations is { Count: > 0 } operations && operations[0] is { } first ? ArrivedAt(first) : Stopwatch.GetTimestamp();

    /// <summary>
    /// Whether the operation can run (it has one). One that came through the shard from this node's grouping stage offers the
    /// stage a direct route for the key's next operations; the stage takes it when that was its last send through the shard.
    /// </summary>
    private bool Accept(RunOperation run, IActorRef replyTo)
    {
        if (run.Operation is null)
        {
            Reply(new Pending(run, replyTo), Failed(run, ErrorCode.InvalidArgument, "the operation is missing"));
            return false;
        }

        if (run.LocalCall is { RegionSend: var send and > 0 } && send != _offeredSend)
        {
            _offeredSend = send;
            _routeFrom = replyTo;
            replyTo.Tell(new OfferRoute(_key, send, Self));
        }

        return true;
    }

    /// <summary>An operation that waits for a batch (the next one, or the loading one): whether it was queued.</summary>
    private bool Queue(RunOperation run) =>
        Accept(run, Sender) && Enqueue(new Pending(run, Sender, ArrivedAt: ArrivedAt(run)));

    private bool Enqueue(Pending pending)
    {
        if (_queue.Count >= _settings.MaxPending)
        {
            Saturated(pending, QueueLimit.Width, _queue.Count, _settings.MaxPending);
            return false;
        }

        if (!_countedActive)
        {
            if (!_queues.TryEnterKey(out var depth))
            {
                Saturated(pending, QueueLimit.Depth, depth, _settings.MaxActiveKeys);
                return false;
            }

            _countedActive = true;
        }

        _queue.Enqueue(pending);
        _queues.QueuedChanged(1);
        _queues.WidthIs(_queue.Count);
        return true;
    }

    private void RunInOpen(Batch batch, Pending pending)
    {
        Execute(batch, pending);
        if (EndsAfterThis(batch))
            Close(batch, stopping: false);
    }

    /// <summary>The batch ends after the operation it just ran: it is full, or min-duration passed while it ran.</summary>
    private bool EndsAfterThis(Batch batch) => batch.Ran.Count >= _settings.MaxOperations || batch.RanPastMinDuration;

    /// <summary>The failed load's batch stays open until min-duration: joining it means sharing its failure.</summary>
    private void ShareFailure(Batch failed, Pending pending)
    {
        failed.FailedDirectly++;
        Reply(pending, Failed(pending.Run, failed.FailureCode, failed.FailureMessage!));
    }

    private void Refuse(RunOperation run, IActorRef replyTo) =>
        Reply(new Pending(run, replyTo), Failed(run, ErrorCode.ShuttingDown, $"resource [{_key}] is stopping (hand-off or shutdown) and takes no new operations"));

    private void Cancel(CancelOperation cancel)
    {
        // an operation that already ran keeps its place in its batch: its caller gets the batch's outcome
        Pending? cancelled = null;
        for (var left = _queue.Count; left > 0; left--)
        {
            var pending = _queue.Dequeue();
            if (cancelled is null && pending.Run.OperationId == cancel.OperationId)
                cancelled = pending;
            else
                _queue.Enqueue(pending); // the others keep their order
        }

        if (cancelled is not { } found)
            return;
        _queues.QueuedChanged(-1);
        QueueShrank();
        Reply(found, Failed(found.Run, ErrorCode.Cancelled, "the operation was cancelled by its caller before it ran"));
    }

    /// <summary>
    /// The batch before ended (or there was none): the next opens for the queued operations; with none queued the entity is
    /// idle, or stops when <paramref name="stopping"/>.
    /// </summary>
    private void OpenNextBatch(bool stopping)
    {
        if (_queue.Count == 0)
        {
            if (stopping && _routeFrom is not null)
                Context.Become(_closingRoute ??= ClosingRoute); // the grouping stage may still be telling operations directly
            else if (stopping)
            {
                Context.Stop(Self);
                Context.Become(_stopped ??= Stopped);
            }
            else
                Context.Become(_idle ??= Idle);
            return;
        }

        // the last batch, emptied, with its list of operations: a new batch and list per batch, grown operation by operation,
        // were ~120 bytes per operation
        // a batch of an idle key opens when its first operation was called (its wait on the way counts); one behind a
        // previous batch opens when that batch ended
        var now = Stopwatch.GetTimestamp();
        var firstArrivedAt = _queue.Peek().ArrivedAt;
        var opened = Math.Min(now, Math.Max(firstArrivedAt, _lastBatchEnded));
        var batch = _batch = (_spareBatch ?? new Batch(new List<Ran>(Math.Max(4, _queue.Count))))
            .Reset(++_lastBatchId, DateTime.UtcNow - Stopwatch.GetElapsedTime(opened, now), opened, firstArrivedAt, _settings.MinDuration,
                _settings.MaxDuration);
        _spareBatch = null;
        // early-close needs the min-duration timer only after a failed load (FailLoad starts it): one timer less per batch.
        // min-duration counts from the batch's first operation: one that waited while the previous batch saved has served
        // that part of it already, so no caller waits a save plus a whole min-duration plus its own save
        if (!_settings.EarlyClose)
        {
            var left = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), batch.MinDeadlineTimestamp);
            if (left > TimeSpan.Zero)
                _deadlines.Schedule(Self, new MinDurationPassed(batch.Id), left);
            else
                batch.MinDurationPassed = true;
        }
        if (_held is { } held)
        {
            batch.Resource = held.Resource;
            Context.Become(_open ??= Open);
            RunQueued(batch, stopping);
            return;
        }

        // only a load needs the entity's own max-duration timer (a load that ignores its token still fails in time); a save's
        // token is cancelled at the deadline by whoever runs it, and its callers are answered when the store returns
        Timers.StartSingleTimer(MaxDurationPassed.Key, new MaxDurationPassed(batch.Id), _settings.MaxDuration);
        Context.Become(stopping ? _loadingToStop ??= LoadingToStop : _loading ??= Loading);
        if (_storeWriter is not null)
        {
            // grouped with the loads of the node's other keys: one LoadManyAsync round trip for many keys
            _storeWriter.Tell(new LoadResource(_key, batch.Id, batch.DeadlineTimestamp, WithRequests: !_requestsKnown));
            return;
        }

        LoadDirectly(batch);
    }

    // its own method: a lambda's captured locals would otherwise cost a closure on every batch, store writer or not
    private void LoadDirectly(Batch batch)
    {
        var (key, store, id, timeout) = (_key, _store, batch.Id, batch.Remaining());
        // Task.Run: a store whose async methods complete synchronously (Microsoft.Data.Sqlite) must not block this actor
        Task.Run(async () =>
        {
            var started = Stopwatch.GetTimestamp();
            using var cancel = new CancellationTokenSource(timeout);
            try
            {
                var resource = await store.LoadAsync(key, cancel.Token).ConfigureAwait(false)
                    ?? throw new InvalidOperationException("LoadAsync returned null");
                return (object)new ResourceLoaded<TResource>(id, resource, Stopwatch.GetElapsedTime(started));
            }
            catch (Exception e)
            {
                // not hidden: the entity logs it and answers every operation of the batch with it
                return new ResourceLoadFailed(id, Describe(e), Stopwatch.GetElapsedTime(started), cancel.IsCancellationRequested);
            }
        }).PipeTo(Self);
    }

    private void OnLoaded(Batch batch, ResourceLoaded<TResource> loaded, bool stopping)
    {
        batch.LoadDuration = loaded.Duration;
        batch.Resource = loaded.Resource;
        if (loaded.Requests is { } stored)
        {
            _requests.Replace(stored);
            _requestsKnown = true;
        }

        Context.Become(_open ??= Open);
        RunQueued(batch, stopping);
    }

    private void OnLoadFailed(Batch batch, ResourceLoadFailed failed, bool stopping)
    {
        batch.LoadDuration = failed.Duration;
        _log.Warning("Batch entity [{EntityKey}]: load of batch {BatchId} failed: {Reason}", _key, batch.Id, failed.Reason);
        if (failed.TimedOut)
            FailLoad(batch, ErrorCode.Timeout, MaxDurationMessage(), stopping);
        else
            FailLoad(batch, ErrorCode.StoreFailure, $"loading resource [{_key}] failed: {failed.Reason}", stopping);
    }

    private void LoadTimedOut(Batch batch, bool stopping)
    {
        _log.Warning("Batch entity [{EntityKey}]: load of batch {BatchId} did not finish within max-duration {MaxDuration}", _key, batch.Id, _settings.MaxDuration);
        FailLoad(batch, ErrorCode.Timeout, MaxDurationMessage(), stopping);
    }

    /// <summary>Runs queued operations while the batch has room; closes it when full, past min-duration, or stopping.</summary>
    private void RunQueued(Batch batch, bool stopping)
    {
        while (batch.Ran.Count < _settings.MaxOperations && !batch.RanPastMinDuration && _queue.TryDequeue(out var next))
        {
            _queues.QueuedChanged(-1);
            Execute(batch, next);
        }

        QueueShrank();

        // early-close: nothing else is queued for the key now, so the batch need not wait for min-duration
        if (batch.Ran.Count >= _settings.MaxOperations || batch.MinDurationPassed || batch.RanPastMinDuration || stopping || _settings.EarlyClose)
            Close(batch, stopping);
    }

    private void Execute(Batch batch, Pending pending)
    {
        if (DateTime.UtcNow > AsUtc(pending.Run.Deadline))
        {
            Reply(pending, Failed(pending.Run, ErrorCode.Cancelled, "the operation's deadline passed before it ran"));
            return;
        }

        var requestId = pending.Run.RequestId;
        if (requestId is not null && !Admit(batch, pending, requestId))
            return;

        OperationOutcome<TResource> outcome;
        var started = Stopwatch.GetTimestamp();
        try
        {
            outcome = _handler.Apply(_key, batch.Resource!, pending.Run.Operation);
            if (outcome is { IsAccepted: false, Message: null })
                outcome = OperationOutcome<TResource>.Rejected("the operation handler returned no outcome");
        }
        catch (Exception e)
        {
            // a handler bug: logged, and the operation is refused so the resource stays as it was
            _log.Error(e, "Batch entity [{EntityKey}]: the operation handler threw on {Operation}", _key, pending.Run.Operation.GetType().Name);
            outcome = OperationOutcome<TResource>.Rejected($"the operation handler failed: {Describe(e)}");
        }

        // min-duration passed while this operation ran (elgopher's soft deadline): the batch ends after it. A deadline that
        // passed before it started (a slow load) is the timer's to report, so the operations already queued still run.
        if (started < batch.MinDeadlineTimestamp && Stopwatch.GetTimestamp() >= batch.MinDeadlineTimestamp)
            batch.RanPastMinDuration = true;

        if (outcome.IsChanged)
        {
            batch.Resource = outcome.Resource;
            batch.Changed = true;
        }

        var newRequest = false;
        if (requestId is not null)
        {
            (batch.RequestIndex ??= new Dictionary<string, int>(StringComparer.Ordinal))[requestId] = batch.Ran.Count;
            // a rejection is not remembered: a retry runs again
            if (outcome.IsAccepted)
            {
                newRequest = true;
                batch.NewRequests++;
            }
            else
                _ledger.Release(1);
        }

        batch.Ran.Add(new Ran(pending, outcome, newRequest));
    }

    /// <summary>
    /// Whether an operation with a request id runs: a repeat of an id whose first run is in this batch gets the first's answer
    /// with it; one already saved within the window is answered now with the remembered result; a new id takes a slot in the
    /// node's ledger, or is refused <see cref="ErrorCode.Saturated"/> when the node remembers <c>idempotency.max-remembered</c>.
    /// </summary>
    private bool Admit(Batch batch, Pending pending, string requestId)
    {
        if (batch.RequestIndex is { } index && index.TryGetValue(requestId, out var first))
        {
            batch.Ran.Add(new Ran(pending, batch.Ran[first].Outcome, NewRequest: false));
            return false;
        }

        if (_requests.TryRecall(requestId, DateTime.UtcNow, out var remembered))
        {
            Reply(pending, new OperationSucceeded(_key, pending.Run.OperationId, remembered.Result));
            return false;
        }

        if (_ledger.TryReserve())
            return true;
        Reply(pending, Failed(pending.Run, ErrorCode.Saturated,
            $"this node already remembers {_ledger.MaxRemembered} request ids of {_settings.TypeName} (idempotency.max-remembered); " +
            "retry later or without a request id"));
        return false;
    }

    /// <summary>The request ids of the batch's operations that ran, as remembered once it is saved.</summary>
    private List<RememberedRequest> NewRequestsOf(Batch batch, DateTime at)
    {
        var requests = new List<RememberedRequest>(batch.NewRequests);
        foreach (var ran in batch.Ran)
        {
            if (ran.NewRequest)
                requests.Add(new RememberedRequest(ran.Operation.Run.RequestId!, ran.Outcome.Result, at));
        }

        return requests;
    }

    private void SaveOverdue(Batch batch)
    {
        // the store's token is cancelled at this deadline; whether the save committed is known only when the store
        // returns, so the callers are answered then (a save that committed late is a success, not "nothing kept")
        _log.Warning("Batch entity [{EntityKey}]: save of batch {BatchId} did not finish within max-duration {MaxDuration}; " +
            "its callers are answered when the store returns", _key, batch.Id, _settings.MaxDuration);
    }

    private void Close(Batch batch, bool stopping)
    {
        if (!batch.Changed && (batch.NewRequests == 0 || !_storeKeepsRequests))
        {
            // reads and rejections only: nothing to save
            Succeed(batch, batch.Resource!, stopping);
            return;
        }

        if (batch.NewRequests > 0)
            batch.Remembered = NewRequestsOf(batch, DateTime.UtcNow);

        Context.Become(stopping ? _savingToStop ??= SavingToStop : _saving ??= Saving);
        batch.SaveStarted = Stopwatch.GetTimestamp();
        if (_storeWriter is not null)
        {
            _storeWriter.Tell(new SaveResource<TResource>(_key, batch.Id, batch.Resource!, batch.DeadlineTimestamp,
                batch.Remembered ?? (IReadOnlyList<RememberedRequest>)[]));
            return;
        }

        SaveDirectly(batch);
    }

    // its own method, as LoadDirectly
    private void SaveDirectly(Batch batch)
    {
        var (key, store, id, resource, timeout) = (_key, _store, batch.Id, batch.Resource!, batch.Remaining());
        Task.Run(async () =>
        {
            using var cancel = new CancellationTokenSource(timeout);
            try
            {
                var stored = await store.SaveAsync(key, resource, cancel.Token).ConfigureAwait(false)
                    ?? throw new InvalidOperationException("SaveAsync returned null");
                return (object)new ResourceSaved<TResource>(id, stored);
            }
            catch (Exception e)
            {
                // not hidden: every operation of the batch is answered with it
                return new ResourceSaveFailed(id, Describe(e), cancel.IsCancellationRequested);
            }
        }).PipeTo(Self);
    }

    private void OnSaved(Batch batch, ResourceSaved<TResource> saved, bool stopping)
    {
        batch.SaveDuration = Stopwatch.GetElapsedTime(batch.SaveStarted);
        Succeed(batch, saved.Stored, stopping);
    }

    private void OnSaveFailed(Batch batch, ResourceSaveFailed failed, bool stopping)
    {
        batch.SaveDuration = Stopwatch.GetElapsedTime(batch.SaveStarted);
        _log.Warning("Batch entity [{EntityKey}]: save of batch {BatchId} failed: {Reason}", _key, batch.Id, failed.Reason);
        if (failed.TimedOut)
            FailBatch(batch, ErrorCode.Timeout, MaxDurationMessage(), stopping);
        else
            FailBatch(batch, ErrorCode.StoreFailure, $"saving resource [{_key}] failed: {failed.Reason}; nothing of the batch was kept", stopping);
    }

    private void Succeed(Batch batch, TResource stored, bool stopping)
    {
        _held = _settings.KeepLoaded ? new Held(stored) : null;
        foreach (var ran in batch.Ran)
        {
            var run = ran.Operation.Run;
            if (ran.Outcome.IsAccepted && run.LocalCall is { } call)
            {
                call.Succeed(ran.Outcome.Result); // this node's caller: its result, without a reply object
                continue;
            }

            Answer(ran.Operation, ran.Outcome.IsAccepted
                ? new OperationSucceeded(_key, run.OperationId, ran.Outcome.Result)
                : new OperationRejected(_key, run.OperationId, ran.Outcome.Code, ran.Outcome.Message ?? "rejected"), batch.Ran.Count);
        }

        SendGroupedAnswers();

        if (batch.NewRequests > 0)
        {
            foreach (var request in batch.Remembered ?? NewRequestsOf(batch, DateTime.UtcNow))
                _requests.Remember(request);
        }

        EndBatch(batch, stopping);
    }

    /// <summary>The load failed or timed out: every operation waiting for this batch shares the failure.</summary>
    private void FailLoad(Batch batch, ErrorCode code, string message, bool stopping)
    {
        _held = null;
        Context.Become(_loadFailed ??= LoadFailed);
        batch.FailureCode = code;
        batch.FailureMessage = message;
        foreach (var pending in _queue)
            Reply(pending, Failed(pending.Run, code, message));
        batch.FailedDirectly += _queue.Count;
        _queues.QueuedChanged(-_queue.Count);
        _queue.Clear();
        QueueShrank();
        if (batch.MinDurationPassed || stopping)
            EndBatch(batch, stopping);
        else if (_settings.EarlyClose)
        {
            var left = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), batch.MinDeadlineTimestamp);
            if (left > TimeSpan.Zero)
                _deadlines.Schedule(Self, new MinDurationPassed(batch.Id), left);
            else
                EndBatch(batch, stopping: false);
        }
    }

    /// <summary>The batch ran but was not saved: every operation of it gets the failure, and nothing of it is kept.</summary>
    private void FailBatch(Batch batch, ErrorCode code, string message, bool stopping)
    {
        _held = null;
        batch.FailureCode = code;
        batch.FailureMessage = message;
        foreach (var ran in batch.Ran)
            Answer(ran.Operation, Failed(ran.Operation.Run, code, message), batch.Ran.Count);
        SendGroupedAnswers();
        // nothing of the batch is remembered: a retry runs again. A save that failed may still have committed (a lost
        // answer), so the key's requests are read from the store again with the next load.
        _ledger.Release(batch.NewRequests);
        batch.NewRequests = 0;
        _requestsKnown = !_storeKeepsRequests;
        EndBatch(batch, stopping);
    }

    private void EndBatch(Batch batch, bool stopping)
    {
        Timers.Cancel(MaxDurationPassed.Key);
        _batch = null;
        if (_requests.Count > 0)
            _requests.Expire(DateTime.UtcNow - _settings.Idempotency.Window);

        var operations = batch.Ran.Count + batch.FailedDirectly;
        _lastBatchEnded = Stopwatch.GetTimestamp();
        var total = Stopwatch.GetElapsedTime(batch.StartTimestamp, _lastBatchEnded);
        var error = batch.FailureMessage is null ? (ErrorCode?)null : batch.FailureCode;
        BatchMeters.Record(_settings.TypeName, operations, total, batch.LoadDuration, batch.SaveDuration, error);
        if (_metricsTap.Wanted)
            Context.System.EventStream.Publish(new BatchMetric(_settings.TypeName, _key, batch.StartUtc, operations, batch.LoadDuration,
                batch.SaveDuration, total, error, batch.FailureMessage));
        if (batch.Ran.Capacity <= 64)
        {
            batch.Release();
            _spareBatch = batch;
        }

        OpenNextBatch(stopping);
    }

    /// <summary>The queue is empty again: the key leaves the node's active keys.</summary>
    private void QueueShrank()
    {
        if (_queue.Count > 0 || !_countedActive)
            return;
        _countedActive = false;
        _queues.LeaveKey();
    }

    private void Saturated(Pending pending, QueueLimit limit, int size, int max)
    {
        var saturation = _queues.Saturated(_key, limit, size, max);
        Reply(pending, Failed(pending.Run, ErrorCode.Saturated, saturation.Describe()) with { Saturation = saturation });
    }

    private string MaxDurationMessage() =>
        $"the batch of resource [{_key}] passed max-duration ({_settings.MaxDuration}) before it was saved; nothing of it was kept";

    private OperationFailed Failed(RunOperation run, ErrorCode code, string message) => new(_key, run.OperationId, code, message);

    /// <summary>A batch's answer: collected for one <see cref="OperationReplies"/> per sender when the operation came grouped.</summary>
    private void Answer(Pending pending, IOperationReply reply, int batchSize)
    {
        if (!pending.Grouped || pending.Run.LocalCall is not null)
        {
            Reply(pending, reply);
            return;
        }

        foreach (var (to, replies) in _groupedAnswers)
        {
            if (ReferenceEquals(to, pending.ReplyTo) || to.Equals(pending.ReplyTo))
            {
                replies.Add(reply);
                return;
            }
        }

        _groupedAnswers.Add((pending.ReplyTo, new List<IOperationReply>(batchSize) { reply }));
    }

    private void SendGroupedAnswers()
    {
        foreach (var (to, replies) in _groupedAnswers)
            to.Tell(new OperationReplies(_key, replies));
        _groupedAnswers.Clear();
    }

    private void Reply(Pending pending, IOperationReply reply)
    {
        // sent by this process's grouping stage: its call is answered here, on the entity's thread (no message, no hop)
        if (pending.Run.LocalCall is { } call)
            call.Answer(reply);
        else if (pending.ReplyTo.CanReceiveReplies())
            pending.ReplyTo.Tell(reply);
        else if (reply is OperationFailed or OperationRejected)
            _log.Warning("Batch entity [{EntityKey}]: {ReplyType} of an operation sent without a sender: {Reply}", _key, reply.GetType().Name, reply);
    }

    private static DateTime AsUtc(DateTime time) => time.Kind == DateTimeKind.Local ? time.ToUniversalTime() : time;

    private static string Describe(Exception e) =>
        e is OperationCanceledException ? "cancelled at max-duration" : $"{e.GetType().Name}: {e.Message}";

    // keep-loaded's resource: a struct, so holding one costs no object per batch
    private readonly record struct Held(TResource Resource);


    // Grouped: it came in a RunOperations with GroupReplies, and its batch's answer goes into one OperationReplies.
    // Structs: an operation costs no queue entry or record of its own on the heap.
    private readonly record struct Pending(RunOperation Run, IActorRef ReplyTo, bool Grouped = false, long ArrivedAt = 0);

    // NewRequest: the operation carried a request id not seen before and ran; it is remembered once the batch is saved
    private readonly record struct Ran(Pending Operation, OperationOutcome<TResource> Outcome, bool NewRequest);

    /// <summary>The open batch. Mutable, owned by the actor.</summary>
    /// <summary>One batch's state. Reused by the entity's next batch (<see cref="Reset"/>): one is needed per batch.</summary>
    private sealed class Batch
    {
        /// <summary>A batch to <see cref="Reset"/> before use.</summary>
        public Batch(List<Ran> ran) => Ran = ran;

        public long Id { get; private set; }
        public DateTime StartUtc { get; private set; }
        public long StartTimestamp { get; private set; }
        public long MinDeadlineTimestamp { get; private set; }
        public long DeadlineTimestamp { get; private set; }
        public TResource? Resource { get; set; }
        public bool Changed { get; set; }
        public bool MinDurationPassed { get; set; }
        public bool RanPastMinDuration { get; set; }
        public Dictionary<string, int>? RequestIndex { get; set; } // request id -> index in Ran of its first run
        public int NewRequests { get; set; }
        public List<RememberedRequest>? Remembered { get; set; }
        public List<Ran> Ran { get; }
        public int FailedDirectly { get; set; }
        public TimeSpan LoadDuration { get; set; }
        public long SaveStarted { get; set; } // Stopwatch timestamp; 0 until the batch is handed to the store
        public TimeSpan SaveDuration { get; set; }
        public ErrorCode FailureCode { get; set; }
        public string? FailureMessage { get; set; }

        /// <summary>
        /// Makes this the fresh batch <paramref name="id"/>, with an empty <see cref="Ran"/>; <c>min-duration</c> counts from
        /// <paramref name="firstArrivedAt"/>, when its first operation arrived.
        /// </summary>
        public Batch Reset(long id, DateTime startUtc, long startTimestamp, long firstArrivedAt, TimeSpan minDuration, TimeSpan maxDuration)
        {
            Id = id;
            StartUtc = startUtc;
            StartTimestamp = startTimestamp;
            MinDeadlineTimestamp = firstArrivedAt + (long)(minDuration.TotalSeconds * Stopwatch.Frequency);
            DeadlineTimestamp = startTimestamp + (long)(maxDuration.TotalSeconds * Stopwatch.Frequency);
            Release();
            Changed = MinDurationPassed = RanPastMinDuration = false;
            NewRequests = 0;
            FailedDirectly = 0;
            LoadDuration = SaveDuration = TimeSpan.Zero;
            SaveStarted = 0;
            FailureCode = default;
            FailureMessage = null;
            return this;
        }

        /// <summary>Lets go of the operations, results and resource of the ended batch, which waits for reuse.</summary>
        public void Release()
        {
            Resource = default;
            RequestIndex = null;
            Remembered = null;
            Ran.Clear();
        }

        /// <summary>Handed to the store to be saved (its outcome unknown until the store returns).</summary>
        public bool Saving => SaveStarted != 0;

        /// <summary>Time left until max-duration (at least 1 ms, so a token is never created cancelled by rounding).</summary>
        public TimeSpan Remaining()
        {
            var left = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), DeadlineTimestamp);
            return left > TimeSpan.FromMilliseconds(1) ? left : TimeSpan.FromMilliseconds(1);
        }
    }

    private sealed class Producer(Func<BatchActor<TResource>> create) : IIndirectActorProducer
    {
        public Type ActorType => typeof(BatchActor<TResource>);

        public ActorBase Produce() => create();

        public void Release(ActorBase actor)
        {
        }
    }

    // told by the node's DeadlineTimer, not cancelled: a batch that ended sooner ignores it by id
    private sealed record MinDurationPassed(long BatchId) : IDeadLetterSuppression;

    private sealed record MaxDurationPassed(long BatchId)
    {
        public static readonly object Key = new();
    }
}
