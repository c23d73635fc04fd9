using System.Diagnostics;
using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Akka.Streams;
using Akka.Streams.Dsl;

namespace Akka.WriteBehind.Refresh;

/// <summary>
/// INTERNAL API
/// <para>
/// One per node (under a <see cref="Akka.Pattern.BackoffSupervisor"/>): holds the items living on this node (their entities track and
/// untrack them; it watches each entity) and refreshes them. Every <c>resync-period</c> it snapshots the tracked items that
/// are not in flight and feeds them into its sync stream: <c>Throttle(rate, burst, Shaping)</c> →
/// <c>GroupedWithin(batch-size, batch-delay)</c> → <c>SelectAsync(parallelism, syncer)</c>; each batch's results come
/// back as a message and go on to the entities as <see cref="ApplySync"/>.
/// </para>
/// <para>
/// Invariants: an item is in at most one sync at a time (the in-flight set); a cycle that is still running when the next is
/// due is skipped and counted, never doubled; terminal items are not tracked; a failed, throwing or timed-out syncer call
/// fails its own batch's items only, which are synced again next cycle; at <c>max-items-per-node</c> a caller's item
/// evicts the least recently used one, while a woken item (no caller) is refused. In cluster scope the rate is
/// tps / Up members, recomputed on member events and taken into use by the next cycle (a running one keeps its rate).
/// </para>
/// </summary>
internal sealed class RefreshSupervisorActor : ReceiveActor, IWithTimers
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly RefreshSettings _settings;
    private readonly IItemSyncer? _syncer;
    private readonly RefreshLedger _ledger;
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly Dictionary<IActorRef, string> _idOfEntity = new();
    private readonly LinkedList<string> _lru = new(); // most recently used first
    private readonly Dictionary<string, long> _inFlight = new(StringComparer.Ordinal); // id → the version being synced
    private readonly HashSet<Address> _up = new();
    private readonly CancellationTokenSource _stop = new();

    private HashSet<string>? _cycle; // ids of the running cycle still without a result
    private long _cycleStarted;
    private long _cyclesStarted;
    private long _cyclesSkipped;
    private RefreshRate _rate;
    private RefreshRate _streamRate;
    private IActorRef? _queue;
    private int _epoch;

    public RefreshSupervisorActor(RefreshSettings settings, IItemSyncer? syncer, RefreshLedger ledger)
    {
        _settings = settings;
        _syncer = syncer;
        _ledger = ledger;
        _rate = RefreshRate.Of(settings.Tps, settings.Burst, settings.TpsScope, 1);

        Receive<TrackItem>(Track);
        Receive<UntrackItem>(untrack =>
        {
            if (_entries.TryGetValue(untrack.Id, out var entry) && entry.Entity.Equals(Sender))
                Remove(untrack.Id);
        });
        Receive<Terminated>(terminated =>
        {
            if (_idOfEntity.TryGetValue(terminated.ActorRef, out var id))
                Remove(id);
        });
        Receive<Tick>(_ => StartCycle());
        Receive<SyncBatchDone>(BatchDone);
        Receive<StreamEnded>(ended =>
        {
            if (ended.Epoch != _epoch)
                return; // a stream replaced at a rate change has drained
            throw new InvalidOperationException($"the refresh stream ended unexpectedly: {ended.Cause ?? "completed"}");
        });
        Receive<ClusterEvent.IMemberEvent>(MemberChanged);
        Receive<ClusterEvent.CurrentClusterState>(_ => { });
        Receive<GetRefreshSupervisorState>(_ => Sender.Tell(new RefreshSupervisorState(
            _entries.Keys.ToArray(), _rate, _up.Count, _cyclesStarted, _cyclesSkipped)));
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(RefreshSettings settings, IItemSyncer? syncer, RefreshLedger ledger) =>
        Akka.Actor.Props.Create(() => new RefreshSupervisorActor(settings, syncer, ledger));

    protected override void PreStart()
    {
        if (_settings.TpsScope == TpsScope.Cluster)
            Cluster.Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents, typeof(ClusterEvent.IMemberEvent));
        if (_syncer is null)
        {
            _log.Info("Refresh set {0}: no syncer; items are stored but not refreshed", _settings.TypeName);
            return;
        }

        StartStream();
        Timers.StartPeriodicTimer(Tick.Instance, Tick.Instance, _settings.ResyncPeriod);
    }

    protected override void PostStop()
    {
        _stop.Cancel();
        _stop.Dispose();
        _ledger.TrackedAre(0);
        if (_settings.TpsScope == TpsScope.Cluster)
            Cluster.Cluster.Get(Context.System).Unsubscribe(Self);
    }

    // ---------------------------------------------------------------- tracking

    private void Track(TrackItem track)
    {
        var id = track.Item.Id;
        if (_entries.TryGetValue(id, out var entry))
        {
            if (!entry.Entity.Equals(Sender))
            {
                // a new incarnation of the entity (restarted after passivation or a supervisor restart)
                _idOfEntity.Remove(entry.Entity);
                Context.Unwatch(entry.Entity);
                entry.Entity = Sender;
                _idOfEntity[Sender] = id;
                Context.Watch(Sender);
                Sender.Tell(ItemTracked.Instance);
            }

            entry.Item = track.Item;
            entry.Version = track.Version;
            if (track.Item.Terminal)
            {
                Remove(id);
                return;
            }

            if (track.Touch)
            {
                _lru.Remove(entry.Lru);
                _lru.AddFirst(entry.Lru);
            }
        }
        else
        {
            if (track.Item.Terminal)
                return;
            if (_entries.Count >= _settings.MaxItemsPerNode)
            {
                if (!track.Touch)
                {
                    Sender.Tell(ItemNotTracked.Instance);
                    return;
                }

                Evict();
            }

            entry = new Entry(track.Item, Sender, _lru.AddFirst(id)) { Version = track.Version };
            _entries[id] = entry;
            _idOfEntity[Sender] = id;
            Context.Watch(Sender);
            Sender.Tell(ItemTracked.Instance);
            _ledger.TrackedAre(_entries.Count);
        }

        if (track.SyncNow && _syncer is not null)
            Dispatch(entry);
    }

    private void Evict()
    {
        var last = _lru.Last!.Value;
        var entity = _entries[last].Entity;
        Remove(last);
        entity.Tell(EvictItem.Instance);
        RefreshMetrics.Evictions.Add(1, _ledger.Tag);
        _log.Debug("Refresh set {0}: evicted [{1}] (max-items-per-node {2})", _settings.TypeName, last, _settings.MaxItemsPerNode);
    }

    private void Remove(string id)
    {
        if (!_entries.Remove(id, out var entry))
            return;
        _lru.Remove(entry.Lru);
        _idOfEntity.Remove(entry.Entity);
        Context.Unwatch(entry.Entity);
        _ledger.TrackedAre(_entries.Count);
        if (_cycle is not null && _cycle.Remove(id))
            EndCycleIfDone();
    }

    // ---------------------------------------------------------------- cycles

    private void StartCycle()
    {
        if (_cycle is not null)
        {
            _cyclesSkipped++;
            RefreshMetrics.SkippedCycles.Add(1, _ledger.Tag);
            _log.Warning("Refresh set {0}: the cycle started {1:F1}s ago still has {2} items without a result; this cycle is skipped",
                _settings.TypeName, Stopwatch.GetElapsedTime(_cycleStarted).TotalSeconds, _cycle.Count);
            return;
        }

        if (_rate != _streamRate)
        {
            _queue?.Tell(new Status.Success(Done.Instance)); // the old stream drains at its rate
            StartStream();
        }

        _cyclesStarted++;
        _cycleStarted = Stopwatch.GetTimestamp();
        _cycle = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in _entries.Values)
        {
            if (entry.Item.Terminal || _inFlight.ContainsKey(entry.Item.Id))
                continue;
            if (_inFlight.Count >= _settings.MaxItemsPerNode)
                break; // bounded: results of evicted items are still on their way; the rest go next cycle
            _cycle.Add(entry.Item.Id);
            Dispatch(entry);
        }

        EndCycleIfDone();
    }

    private void Dispatch(Entry entry)
    {
        if (!_inFlight.TryAdd(entry.Item.Id, entry.Version))
            return; // already being synced
        _queue!.Tell(entry.Item);
    }

    private void BatchDone(SyncBatchDone done)
    {
        RefreshMetrics.SyncLatency.Record(done.Latency.TotalSeconds, _ledger.Tag);
        if (done.Error is not null)
            _log.Warning("Refresh set {0}: a sync of {1} items failed: {2}; they are synced again next cycle", _settings.TypeName, done.Results.Count, done.Error);
        foreach (var result in done.Results)
        {
            _inFlight.Remove(result.Id, out var basedOn);
            RefreshMetrics.Syncs.Add(1, _ledger.Tag, new KeyValuePair<string, object?>("outcome", OutcomeOf(result)));
            if (result is SyncFailed)
                RefreshMetrics.SyncErrors.Add(1, _ledger.Tag);
            if (!_entries.TryGetValue(result.Id, out var entry))
                continue; // untracked meanwhile (deleted, evicted, stopped): the result is stale
            var entity = entry.Entity;
            // the entity applies the result only if the item is still at the version synced (else a caller changed it)
            switch (entry.Version == basedOn ? result : null)
            {
                case SyncUpdated updated:
                    entry.Item = updated.Item;
                    entry.Version = basedOn + 1;
                    if (updated.Item.Terminal)
                        Remove(result.Id);
                    break;
                case SyncDeleted:
                    Remove(result.Id);
                    break;
            }

            entity.Tell(new ApplySync(result, basedOn));
            if (_cycle is not null && _cycle.Remove(result.Id))
                EndCycleIfDone();
        }
    }

    private void EndCycleIfDone()
    {
        if (_cycle is not { Count: 0 })
            return;
        _cycle = null;
        RefreshMetrics.CycleDuration.Record(Stopwatch.GetElapsedTime(_cycleStarted).TotalSeconds, _ledger.Tag);
    }

    private static string OutcomeOf(SyncResult result) => result switch
    {
        SyncUnchanged => "unchanged",
        SyncUpdated => "updated",
        SyncDeleted => "deleted",
        _ => "failed",
    };

    // ---------------------------------------------------------------- stream

    private void StartStream()
    {
        var epoch = ++_epoch;
        var rate = _rate;
        _streamRate = rate;
        var self = Self;
        var syncer = _syncer!;
        var timeout = _settings.SyncTimeout;
        var stop = _stop.Token;
        // every item is in the queue at most once and the in-flight set never exceeds max-items-per-node: Fail cannot happen
        var (queue, done) = Source.ActorRef<RefreshItem>(_settings.MaxItemsPerNode, OverflowStrategy.Fail)
            .Throttle(1, rate.Interval, rate.Bucket, ThrottleMode.Shaping)
            .GroupedWithin(_settings.BatchSize, _settings.BatchDelay)
            .SelectAsync(_settings.Parallelism, batch => SyncAsync(syncer, batch.ToArray(), timeout, epoch, stop))
            .ToMaterialized(Sink.ForEach<SyncBatchDone>(result => self.Tell(result)), Keep.Both)
            .Run(Context.Materializer());
        _queue = queue;
        done.PipeTo(self, success: _ => new StreamEnded(epoch, null), failure: e => new StreamEnded(epoch, e.ToString()));
        _log.Info("Refresh set {0}: syncing at {1:0.###}/s, burst {2}, batches of {3}, {4} in parallel, every {5}",
            _settings.TypeName, rate.PerSecond, rate.Bucket, _settings.BatchSize, _settings.Parallelism, _settings.ResyncPeriod);
    }

    /// <summary>Runs one syncer call outside the actor; every item gets a result, whatever the syncer does.</summary>
    internal static async Task<SyncBatchDone> SyncAsync(IItemSyncer syncer, RefreshItem[] items, TimeSpan timeout, int epoch, CancellationToken stop)
    {
        var started = Stopwatch.GetTimestamp();
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(stop);
        cancel.CancelAfter(timeout);
        IReadOnlyList<SyncResult> returned;
        try
        {
            returned = await syncer.SyncAsync(items, cancel.Token).WaitAsync(timeout, stop).ConfigureAwait(false);
        }
        catch (Exception e) when (e is TimeoutException || (e is OperationCanceledException && cancel.IsCancellationRequested))
        {
            return Failed(items, $"the syncer gave no answer within {timeout} (sync-timeout)", started, epoch);
        }
#pragma warning disable CA1031 // a user's syncer may throw anything: it fails its batch's items, and is reported
        catch (Exception e)
#pragma warning restore CA1031
        {
            return Failed(items, $"the syncer threw {e.GetType().Name}: {e.Message}", started, epoch);
        }

        var byId = new Dictionary<string, SyncResult>(StringComparer.Ordinal);
        foreach (var result in returned ?? [])
        {
            if (result is null)
                continue;
            if (result is SyncUpdated { Item.State: null })
                byId.TryAdd(result.Id, SyncResult.Failed(result.Id, "the syncer returned an item without state"));
            else
                byId.TryAdd(result.Id, result);
        }

        var results = items
            .Select(i => byId.GetValueOrDefault(i.Id) ?? SyncResult.Failed(i.Id, "the syncer returned no result for this item"))
            .ToArray();
        return new SyncBatchDone(epoch, results, Stopwatch.GetElapsedTime(started), null);
    }

    private static SyncBatchDone Failed(RefreshItem[] items, string reason, long started, int epoch) =>
        new(epoch, items.Select(i => SyncResult.Failed(i.Id, reason)).ToArray(), Stopwatch.GetElapsedTime(started), reason);

    // ---------------------------------------------------------------- cluster scope

    private void MemberChanged(ClusterEvent.IMemberEvent change)
    {
        switch (change)
        {
            case ClusterEvent.MemberUp up:
                _up.Add(up.Member.Address);
                break;
            case ClusterEvent.MemberLeft or ClusterEvent.MemberExited or ClusterEvent.MemberRemoved or ClusterEvent.MemberDowned:
                _up.Remove(change.Member.Address);
                break;
            default:
                return;
        }

        var rate = RefreshRate.Of(_settings.Tps, _settings.Burst, _settings.TpsScope, _up.Count);
        if (rate == _rate)
            return;
        _rate = rate;
        _log.Info("Refresh set {0}: {1} members Up; the next cycle syncs at {2:0.###}/s, burst {3}", _settings.TypeName, _up.Count, rate.PerSecond, rate.Burst);
    }

    private sealed class Entry(RefreshItem item, IActorRef entity, LinkedListNode<string> lru)
    {
        public RefreshItem Item { get; set; } = item;

        public IActorRef Entity { get; set; } = entity;

        public LinkedListNode<string> Lru { get; } = lru;

        public long Version { get; set; }
    }

    private sealed record StreamEnded(int Epoch, string? Cause);

    private sealed class Tick
    {
        public static readonly Tick Instance = new();

        private Tick()
        {
        }
    }
}
