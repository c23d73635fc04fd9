using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Event;
using Akka.WriteBehind.Internal;

namespace Akka.WriteBehind.Refresh;

/// <summary>
/// INTERNAL API
/// <para>
/// The sharded entity of one refresh item, the cluster's single writer for it. On start it loads the stored item (buffering
/// commands meanwhile, at most <c>entity-buffer-size</c>); a present, non-terminal item is tracked by the node's
/// <see cref="RefreshSupervisorActor"/>, which syncs it every cycle and sends the outcome back as <see cref="ApplySync"/>.
/// Every change (command or sync) goes to the store through the node's <see cref="RefreshStoreWriterActor"/> (which groups
/// many items' writes into one transaction), one write at a time, the latest state winning; callers are answered
/// once their change is stored (at most <c>entity-buffer-size</c> callers wait; beyond, <see cref="ErrorCode.Saturated"/>).
/// A failed write is answered <see cref="ErrorCode.StoreFailure"/> and retried with back-off
/// (the change is kept in memory and served to readers).
/// </para>
/// <para>
/// Items that are not refreshed (absent, deleted, terminal, evicted or refused at the cap) passivate after
/// <c>idle-timeout</c>; tracked items stay until evicted, handed off or stopped. <see cref="StopItem"/> (hand-off,
/// passivation) stops the entity once its writes are done.
/// </para>
/// </summary>
internal sealed class RefreshItemActor : UntypedActor, IWithTimers, IWithStash
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly string _id;
    private readonly RefreshSettings _settings;
    private readonly IRefreshItemStore _store;
    private readonly IActorRef _supervisor;
    private readonly IActorRef _writer;
    private readonly List<Waiter> _waiters = new();
    private RememberedReplies<(long Version, IRefreshReply Reply)>? _answered; // first answers to commands with a request id

    private readonly ItemWrites _writes = new();
    private readonly RetrySettings _backoff;

    private RefreshItem? _item;     // null: absent or deleted
    private int _stashed;
    private Tracking _tracking;
    private Passivation _passivation;

    public RefreshItemActor(string id, RefreshSettings settings, IRefreshItemStore store, IActorRef supervisor, IActorRef writer)
    {
        _writer = writer;
        _id = id;
        _settings = settings;
        _store = store;
        _supervisor = supervisor;
        _backoff = settings.Retry;
    }

    // whether the node's supervisor refreshes the item: not asked, asked (retried until it answers), or answered
    private enum Tracking
    {
        Off,
        Asked,
        Acked,
    }

    // whether this incarnation asked its shard to passivate it, and whether a caller touched the item since: the shard
    // stops it anyway, so a touch then is handed to the next incarnation instead of tracking the item here
    private enum Passivation
    {
        None,
        Asked,
        AskedAndTouched,
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public IStash Stash { get; set; } = null!;

    public static Props Props(string id, RefreshSettings settings, IRefreshItemStore store, IActorRef supervisor, IActorRef writer) =>
        Akka.Actor.Props.Create(() => new RefreshItemActor(id, settings, store, supervisor, writer));

    protected override void PreStart() => Load();

    protected override void PostStop()
    {
        if (_tracking != Tracking.Off)
            _supervisor.Tell(new UntrackItem(_id));
        if (_passivation == Passivation.AskedAndTouched)
            Context.Parent.Tell(new WakeItem(_id, Touch: true)); // the shard starts the next incarnation, which tracks it again
        if (!_writes.AllStored)
            _log.Warning("Refresh item [{0}] stopped with a change not stored; the store keeps the previous state", _id);
        foreach (var waiter in _waiters)
            waiter.ReplyTo.Tell(new RefreshRejected(_id, ErrorCode.ShuttingDown, "the item stopped before its change was stored"));
    }

    // ---------------------------------------------------------------- states

    // Behaviours are switch statements (UntypedActor), not ReceiveActor handler lists: an entity is created per item, and
    // building its handler lists per activation (again on Become) was a measurable share of a key's first-touch cost.

    protected override void OnReceive(object message) => Loading(message);

    // Loading, nobody has touched the item yet: once loaded it is tracked without a touch.
    private void Loading(object message) => Loading(message, touched: false);

    // Loading, and a caller or a wake-up touched the item meanwhile: once loaded it is tracked as touched.
    private void LoadingTouched(object message) => Loading(message, touched: true);

    private void Loading(object message, bool touched)
    {
        switch (message)
        {
            case Loaded loaded:
                _item = loaded.Stored?.Item;
                _writes.Loaded(loaded.Stored is not null, loaded.Stored?.Version);
                Become(Active);
                if (_item is { Terminal: false })
                    Track(touch: touched, syncNow: false);
                else
                    ArmIdle();
                Stash.UnstashAll();
                _stashed = 0;
                break;
            case LoadFailed failed:
                var loadFailures = _writes.LoadFailed();
                var delay = _backoff.After(loadFailures);
                _log.Warning("Refresh item [{0}]: loading failed ({1}. time): {2}; retrying in {3}", _id, loadFailures, failed.Cause, delay);
                Timers.StartSingleTimer(RetryLoad.Instance, RetryLoad.Instance, delay);
                break;
            case RetryLoad:
                Load();
                break;
            case StopItem:
                if (_stashed == 0)
                    Context.Stop(Self); // nothing to write and nobody waiting
                else
                    Stash.Stash(); // handled once loaded: the buffered commands are answered (and stored) first
                break;
            case WakeItem wake:
                if (wake.Touch && !touched)
                    Become(LoadingTouched);
                break;
            case IRefreshCommand:
                if (!touched)
                    Become(LoadingTouched);
                if (_stashed >= _settings.EntityBufferSize)
                {
                    Reply(Sender, new RefreshRejected(_id, ErrorCode.Saturated,
                        $"item [{_id}] is loading and already holds {_settings.EntityBufferSize} commands (entity-buffer-size)"));
                    break;
                }

                _stashed++;
                Stash.Stash();
                break;
            default:
                break; // supervisor messages of an earlier incarnation
        }
    }

    private void Active(object message)
    {
        switch (message)
        {
            case GetItem:
                if (_item is null)
                {
                    NotFound(Sender);
                    break;
                }

                Touched();
                ReplyWhenStored(Sender, new RefreshItemReply(_item, false));
                break;
            case GetOrCreateItem command:
                if (_item is not null)
                {
                    Touched();
                    ReplyWhenStored(Sender, new RefreshItemReply(_item, false));
                    break;
                }

                Change(command.Item, created: true, Sender, new RefreshItemReply(command.Item, true));
                break;
            case PutItem { RequestId: { } id } when Repeated(id, Sender):
                break;
            case DeleteItem { RequestId: { } id } when Repeated(id, Sender):
                break;
            case PutItem command:
                var created = _item is null;
                Change(command.Item, created, Sender, new RefreshItemReply(command.Item, created), command.RequestId);
                break;
            case UpdateItem command:
                if (_item is null)
                    NotFound(Sender);
                else
                    Change(command.Item, created: false, Sender, new RefreshItemReply(command.Item, false));
                break;
            case DeleteItem command:
                if (_item is null)
                    NotFound(Sender);
                else
                    Change(null, created: false, Sender, new RefreshItemDeleted(_id), command.RequestId);
                break;
            case WakeItem wake:
                if (wake.Touch && _item is not null)
                    Touched();
                break;
            case ApplySync apply:
                Synced(apply.Result, apply.BasedOn);
                break;
            case ItemTracked:
                if (_tracking != Tracking.Off)
                    _tracking = Tracking.Acked;
                Timers.Cancel(Retrack.Instance);
                Context.Watch(Sender); // the supervisor's current incarnation: track again when it restarts
                break;
            case ItemNotTracked:
                Untracked("the node holds max-items-per-node items");
                break;
            case EvictItem:
                Untracked("evicted as the least recently used");
                break;
            case Retrack:
                SendTrack(touch: false, syncNow: false);
                break;
            case Terminated:
                if (_tracking == Tracking.Off)
                    break;
                _tracking = Tracking.Asked;
                SendTrack(touch: false, syncNow: false);
                Timers.StartPeriodicTimer(Retrack.Instance, Retrack.Instance, _settings.ResyncPeriod);
                break;
            case ItemWritten written:
                OnWritten(written);
                break;
            case ItemWriteFailed failed:
                OnWriteFailed(failed.Version, failed.Reason);
                break;
            case WriteTimedOut timedOut:
                OnWriteFailed(timedOut.Version,
                    $"no outcome from the node's store writer within {_settings.StoreWriter.WriteTimeout} (store-writer.write-timeout)");
                break;
            case RetryWrite:
                Write();
                break;
            case Idle:
                Passivate();
                break;
            case StopItem:
                Become(Stopping);
                StopIfDone();
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    // Hand-off or passivation: no new change is accepted (repeats and reads are still answered), a sync's result is
    // dropped (the next incarnation syncs again), and the entity stops once its writes are done.
    private void Stopping(object message)
    {
        switch (message)
        {
            case PutItem { RequestId: { } id } when Repeated(id, Sender):
                break;
            case DeleteItem { RequestId: { } id } when Repeated(id, Sender):
                break;
            case PutItem:
            case GetOrCreateItem when _item is null:
            case UpdateItem or DeleteItem when _item is not null:
                Reply(Sender, new RefreshRejected(_id, ErrorCode.ShuttingDown, $"item [{_id}] is stopping"));
                break;
            case ApplySync:
                break;
            case StopItem:
                StopIfDone();
                break;
            case ItemWritten written:
                OnWritten(written);
                StopIfDone();
                break;
            default:
                Active(message);
                break;
        }
    }

    // ---------------------------------------------------------------- commands

    /// <summary>
    /// Whether <paramref name="requestId"/> was answered already (or is invalid): then its first answer goes to
    /// <paramref name="replyTo"/> once the change it made is stored (or the refusal at once), and nothing is applied.
    /// </summary>
    private bool Repeated(string requestId, IActorRef replyTo)
    {
        if (!RequestIds.TryValidate(requestId, out var error))
        {
            Reply(replyTo, new RefreshRejected(_id, ErrorCode.InvalidArgument, error!));
            return true;
        }

        if (_answered is null || !_answered.TryGet(requestId, NowMs(), out var first))
            return false;
        if (_writes.StoredVersion >= first.Version)
            Reply(replyTo, first.Reply);
        else if (_waiters.Count >= _settings.EntityBufferSize)
            Reply(replyTo, Saturated());
        else if (replyTo.CanReceiveReplies())
            _waiters.Add(new Waiter(replyTo, first.Version, first.Reply));
        return true;
    }

    private static long NowMs() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    private void Change(RefreshItem? item, bool created, IActorRef replyTo, IRefreshReply reply, string? requestId = null)
    {
        if (replyTo.CanReceiveReplies() && _waiters.Count >= _settings.EntityBufferSize)
        {
            Reply(replyTo, Saturated());
            return;
        }

        _item = item;
        var version = _writes.Changed();
        if (replyTo.CanReceiveReplies())
            _waiters.Add(new Waiter(replyTo, version, reply));
        if (requestId is not null)
            (_answered ??= new RememberedReplies<(long, IRefreshReply)>(_settings.Idempotency.Window, _settings.Idempotency.MaxIdsPerItem))
                .Remember(requestId, (version, reply), NowMs());
        Write();
        if (item is { Terminal: false })
        {
            Timers.Cancel(Idle.Instance);
            Track(touch: true, syncNow: created && _settings.SyncOnCreate);
        }
        else
        {
            Untrack();
        }
    }

    private void Synced(SyncResult result, long basedOn)
    {
        if (_item is null)
            return; // deleted meanwhile: the sync result is stale
        if (basedOn != _writes.Version && result is SyncUpdated or SyncDeleted)
        {
            // a caller changed the item while it was being synced: its change wins, the next cycle syncs it again
            _log.Debug("Refresh item [{0}]: a sync of version {1} ignored, the item is at version {2}", _id, basedOn, _writes.Version);
            return;
        }

        switch (result)
        {
            case SyncUpdated updated when updated.Item.Id == _id:
                _item = updated.Item;
                _writes.Synced();
                Write();
                if (_item.Terminal)
                    Untrack(); // the supervisor has dropped it already
                else if (_tracking != Tracking.Off)
                    _supervisor.Tell(new TrackItem(_item, Touch: false, SyncNow: false, _writes.Version));
                break;
            case SyncDeleted:
                _item = null;
                _writes.Synced();
                Write();
                Untrack();
                break;
            case SyncFailed failed:
                _log.Debug("Refresh item [{0}]: sync failed ({1}); retried next cycle", _id, failed.Reason);
                break;
        }
    }

    private void Touched()
    {
        if (_tracking != Tracking.Off)
            _supervisor.Tell(new TrackItem(_item!, Touch: true, SyncNow: false, _writes.Version));
        else if (_item is { Terminal: false })
            Track(touch: true, syncNow: false); // evicted or refused earlier: a caller brings it back
        else
            ArmIdle();
    }

    private void NotFound(IActorRef replyTo)
    {
        ArmIdle();
        Reply(replyTo, new RefreshRejected(_id, ErrorCode.NotFound, $"item [{_id}] does not exist"));
    }

    // ---------------------------------------------------------------- tracking

    private void Track(bool touch, bool syncNow)
    {
        if (_passivation != Passivation.None)
        {
            // the shard stops this incarnation anyway: the next one tracks the item again
            _passivation = Passivation.AskedAndTouched;
            return;
        }

        if (_tracking == Tracking.Off)
            _tracking = Tracking.Asked;
        Timers.Cancel(Idle.Instance);
        SendTrack(touch, syncNow);
        if (_tracking != Tracking.Acked)
            Timers.StartPeriodicTimer(Retrack.Instance, Retrack.Instance, _settings.ResyncPeriod);
    }

    private void SendTrack(bool touch, bool syncNow)
    {
        if (_item is { Terminal: false })
            _supervisor.Tell(new TrackItem(_item, touch, syncNow, _writes.Version));
    }

    private void Untrack()
    {
        if (_tracking != Tracking.Off)
            _supervisor.Tell(new UntrackItem(_id));
        _tracking = Tracking.Off;
        Timers.Cancel(Retrack.Instance);
        ArmIdle();
    }

    private void Untracked(string why)
    {
        if (_tracking == Tracking.Off)
            return;
        _log.Debug("Refresh item [{0}] is not refreshed on this node: {1}; passivating", _id, why);
        _tracking = Tracking.Off;
        Timers.Cancel(Retrack.Instance);
        ArmIdle(); // kept for readers a while; a caller touching it meanwhile brings it back
    }

    private void ArmIdle()
    {
        if (_tracking == Tracking.Off)
            Timers.StartSingleTimer(Idle.Instance, Idle.Instance, _settings.IdleTimeout);
    }

    private void Passivate()
    {
        if (_tracking != Tracking.Off || _passivation != Passivation.None)
            return;
        _passivation = Passivation.Asked;
        Context.Parent.Tell(new Passivate(StopItem.Instance));
    }

    // ---------------------------------------------------------------- store

    private void Load() =>
        _store.LoadVersionedAsync(_id).PipeTo(Self, success: stored => new Loaded(stored), failure: e => new LoadFailed(Describe(e)));

    private void Write()
    {
        if (_writes.NextWrite() is not { } next)
            return;
        // grouped with other items' writes into one store transaction by the node's store writer. A sync's result is
        // stored only over an older row, so that a stale one (an earlier incarnation's, after a hand-off) loses; but only
        // when every earlier change is stored: one that is not (a failed create, say) is part of this state and must land
        var write = next.OnlyOverOlder
            ? RefreshItemWrite.Synced(_id, _item, next.Version)
            : (_item is null ? RefreshItemWrite.Delete(_id) : RefreshItemWrite.Save(_item)) with { Version = next.Version };
        _writer.Tell(new WriteItem(write, next.Version));
        Timers.StartSingleTimer(WriteTimerKey, new WriteTimedOut(next.Version), _settings.StoreWriter.WriteTimeout);
    }

    private void OnWritten(ItemWritten written)
    {
        if (!_writes.Written(written.Version))
            return; // the outcome of a write that timed out: the change is being written again
        Timers.Cancel(WriteTimerKey);
        for (var i = 0; i < _waiters.Count; i++)
        {
            if (_waiters[i].Version > written.Version)
                continue;
            _waiters[i].ReplyTo.Tell(_waiters[i].Reply);
            _waiters.RemoveAt(i--);
        }

        Write();
    }

    private void OnWriteFailed(long version, string cause)
    {
        if (_writes.WriteFailed(version) is not { } failures)
            return; // the outcome of a write that timed out: the change is being written again
        Timers.Cancel(WriteTimerKey);
        var delay = _backoff.After(failures);
        _log.Warning("Refresh item [{0}]: store write failed ({1}. time): {2}; the change is kept and retried in {3}", _id, failures, cause, delay);
        foreach (var waiter in _waiters)
            waiter.ReplyTo.Tell(new RefreshRejected(_id, ErrorCode.StoreFailure,
                $"storing item [{_id}] failed ({cause}); the change is kept and retried"));
        _waiters.Clear();
        Timers.StartSingleTimer(RetryWrite.Instance, RetryWrite.Instance, delay);
    }

    private void StopIfDone()
    {
        if (_writes.DoneForStop)
            Context.Stop(Self);
    }

    private void ReplyWhenStored(IActorRef replyTo, IRefreshReply reply)
    {
        if (_writes.AllStored)
            Reply(replyTo, reply);
        else if (_waiters.Count >= _settings.EntityBufferSize)
            Reply(replyTo, Saturated());
        else if (replyTo.CanReceiveReplies())
            _waiters.Add(new Waiter(replyTo, _writes.Version, reply));
    }

    private void Reply(IActorRef replyTo, IRefreshReply reply)
    {
        if (replyTo.CanReceiveReplies())
            replyTo.Tell(reply);
    }

    private RefreshRejected Saturated() =>
        new(_id, ErrorCode.Saturated, $"item [{_id}] already has {_settings.EntityBufferSize} callers waiting for a store write (entity-buffer-size)");

    private sealed record Waiter(IActorRef ReplyTo, long Version, IRefreshReply Reply);

    private sealed record Loaded(StoredRefreshItem? Stored);

    // messages carry the error as text: they stay serializable (serialize-messages = on in tests)
    private static string Describe(Exception e) => $"{e.GetType().Name}: {e.GetBaseException().Message}";

    private sealed record LoadFailed(string Cause);

    private const string WriteTimerKey = "write-timeout";

    private sealed record WriteTimedOut(long Version);

    private sealed class RetryLoad
    {
        public static readonly RetryLoad Instance = new();

        private RetryLoad()
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

    private sealed class Retrack
    {
        public static readonly Retrack Instance = new();

        private Retrack()
        {
        }
    }

    private sealed class Idle
    {
        public static readonly Idle Instance = new();

        private Idle()
        {
        }
    }
}
