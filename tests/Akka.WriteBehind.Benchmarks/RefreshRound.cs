using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using Akka.Actor;
using Akka.Configuration;
using Akka.WriteBehind.Refresh;
using Microsoft.Data.Sqlite;

namespace Akka.WriteBehind.Benchmarks;

/// <summary>
/// The <c>refresh</c> scenario (items/s against the configured tps): the refresh cache as users start it
/// (<see cref="WriteBehindRefresh.StartAsync"/> on a one-node cluster, items in <c>refresh_items</c> on the round's SQLite
/// file) with <see cref="VersionSyncer"/>, which answers every sync with a new state, so every sync is also a store write.
/// Creates the items (GetOrCreateItem, 500 in flight; sync-on-create on), waits until each was synced once, then measures
/// a fixed window: syncs/s counted by the syncer against the configured tps, cycles (the library's own meter), CPU per sync.
/// Verified: no item in two syncs at once, every item synced once per cycle (none starved, none twice), and — once the
/// syncer stops changing states — the stored state of every item equals the last state the syncer returned for it.
/// </summary>
internal static class RefreshRound
{
    private const int CreateWindow = 500;

    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(60);

    /// <param name="quick">Waits at most 30 s (else 120 s) for each item's first sync and for the store to settle: a quick round stays inside the parent's 90 s child timeout and fails with what differs.</param>
    public static async Task<RoundResult> RunAsync(Scenario scenario, string dbFile, RoundResult result, bool quick)
    {
        var settleTimeout = TimeSpan.FromSeconds(quick ? 30 : 120);
        // loglevel ERROR: with a resync-period this short every tick during a cycle is skipped and logged as a warning (tens
        // per second, by design here: they are counted from the meter instead); failures still show in the verification
        var config = ConfigurationFactory.ParseString(string.Create(CultureInfo.InvariantCulture, $$"""
                akka.loglevel = ERROR
                akka.stdout-loglevel = ERROR
                akka.write-behind.refresh {
                  resync-period = {{(long)scenario.ResyncPeriod.TotalMilliseconds}}ms
                  tps = {{scenario.RefreshTps}}
                  burst = {{scenario.RefreshBurst}}
                  batch-size = 10
                  parallelism = 4
                  sync-on-create = on
                  wake-interval = off
                  max-items-per-node = {{Math.Max(100_000, scenario.Keys + 1)}}
                }
                """));
        var ids = Scenarios.KeyNames(scenario.Keys);
        var syncer = new VersionSyncer(ids);
        var store = new CountingRefreshStore(new SqliteRefreshItemStore($"Data Source={dbFile}"));
        using var cycles = new CycleMeter();
        var system = await Systems.OursNode.StartSystemAsync(config);
        try
        {
            var refresh = await WriteBehindRefresh.StartAsync(system, store, syncer);
            // warm-up outside the measurement: the shard region, one entity, one write (synced along with the items)
            await CreateAsync(refresh.Region, "warmup");

            GC.Collect();
            GC.WaitForPendingFinalizers();
            using var process = Process.GetCurrentProcess();

            // creation: every item stored (the reply comes once stored), each queued for a sync at once
            var clock = Stopwatch.StartNew();
            var (created, rejected) = await CreateAllAsync(refresh.Region, ids);
            var creation = clock.Elapsed;
            if (created != ids.Length)
                throw new InvalidOperationException($"{ids.Length - created} items not created ({rejected} refused)");
            await UntilAsync(() => syncer.AllSyncedOnce, settleTimeout, "every item synced once after its creation");

            // the window
            process.Refresh();
            var cpuBefore = process.TotalProcessorTime;
            var statBefore = ProcStat.Read();
            var countsBefore = syncer.Counts();
            var syncsBefore = syncer.TotalSyncs;
            var writesBefore = store.Writes;
            var (cyclesBefore, skippedBefore, cycleSecondsBefore) = cycles.Read();
            var window = Stopwatch.StartNew();
            await Task.Delay(scenario.Window);
            var countsAfter = syncer.Counts();
            var syncs = syncer.TotalSyncs - syncsBefore;
            var writes = store.Writes - writesBefore;
            var (cyclesAfter, skippedAfter, cycleSecondsAfter) = cycles.Read();
            var seconds = window.Elapsed.TotalSeconds;
            process.Refresh();
            var cpu = process.TotalProcessorTime - cpuBefore;
            var outside = ProcStat.OutsideLoad(statBefore, ProcStat.Read(), cpu);

            // settle: the syncer stops changing states; the store must then hold every item's last synced state
            syncer.Freeze();
            var settle = Stopwatch.StartNew();
            var mismatch = await WaitStoredAsync(dbFile, syncer, ids, settleTimeout);
            var settleSeconds = settle.Elapsed.TotalSeconds;

            var completed = cyclesAfter - cyclesBefore;
            var perItem = countsAfter.Zip(countsBefore, (a, b) => a - b).ToArray();
            var errors = new List<string>();
            if (syncer.MaxActivePerItem > 1)
                errors.Add($"an item was in {syncer.MaxActivePerItem} syncs at once");
            if (completed < 2)
                errors.Add($"only {completed} cycle(s) completed in the {seconds:0.#} s window: give a longer --duration");
            // each cycle started and completed within the window synced every item once (>= completed - 1 of them); the cycles
            // with a sync in the window are those completed in it plus the one running at its end (<= completed + 1)
            else if (perItem.Min() < completed - 1 || perItem.Max() > completed + 1)
                errors.Add($"syncs per item {perItem.Min()}..{perItem.Max()} in {completed} completed cycles " +
                           $"(item {ids[Array.IndexOf(perItem, perItem.Min())]} least, {ids[Array.IndexOf(perItem, perItem.Max())]} most): " +
                           "an item starved or synced twice in one cycle");
            if (mismatch is not null)
                errors.Add(mismatch);

            return result with
            {
                Sent = ids.Length,
                Accepted = created,
                Rejected = rejected,
                DatabaseTotal = ids.Length,
                Verified = errors.Count == 0,
                IngestSeconds = creation.TotalSeconds,
                IngestPerSecond = created / creation.TotalSeconds,
                DurableSeconds = seconds,
                DurablePerSecond = syncs / seconds,
                CpuMicrosPerIncrement = cpu.TotalMicroseconds / Math.Max(1, syncs),
                RowsWritten = writes,
                RowsPerIncrement = (double)writes / Math.Max(1, syncs),
                PeakWorkingSetMb = process.PeakWorkingSet64 / (1024.0 * 1024.0),
                OutsideLoad = outside,
                Error = errors.Count == 0 ? null : string.Join("; ", errors),
                RefreshTps = scenario.RefreshTps,
                Syncs = syncs,
                SyncsPerSecond = syncs / seconds,
                TpsRatio = syncs / seconds / scenario.RefreshTps,
                CyclesCompleted = completed,
                CyclesSkipped = skippedAfter - skippedBefore,
                MeanCycleSeconds = completed > 0 ? (cycleSecondsAfter - cycleSecondsBefore) / completed : null,
                SyncsPerItemMin = perItem.Min(),
                SyncsPerItemMax = perItem.Max(),
                StaleSyncInputs = syncer.StaleInputs,
                StoreWritesPerSecond = writes / seconds,
                SettleSeconds = mismatch is null ? settleSeconds : null,
            };
        }
        finally
        {
            await system.Terminate().WaitAsync(TimeSpan.FromSeconds(30));
        }
    }

    private static async Task CreateAsync(IActorRef region, string id)
    {
        var reply = await region.Ask<IRefreshReply>(new GetOrCreateItem(new RefreshItem(id, VersionSyncer.StateOf(0))), AskTimeout);
        if (reply is not RefreshItemReply)
            throw new InvalidOperationException($"creating {id}: {reply}");
    }

    private static async Task<(long Created, long Rejected)> CreateAllAsync(IActorRef region, string[] ids)
    {
        using var window = new SemaphoreSlim(CreateWindow, CreateWindow);
        long created = 0, rejected = 0, failed = 0;
        Exception? firstFailure = null;
        string? firstRejection = null;
        foreach (var id in ids)
        {
            await window.WaitAsync();
            _ = region.Ask<IRefreshReply>(new GetOrCreateItem(new RefreshItem(id, VersionSyncer.StateOf(0))), AskTimeout).ContinueWith(t =>
            {
                if (t.IsCompletedSuccessfully && t.Result is RefreshItemReply { Created: true })
                    Interlocked.Increment(ref created);
                else if (t.IsCompletedSuccessfully)
                {
                    Interlocked.Increment(ref rejected);
                    Interlocked.CompareExchange(ref firstRejection, t.Result.ToString(), null);
                }
                else
                {
                    Interlocked.Increment(ref failed);
                    Interlocked.CompareExchange(ref firstFailure, t.Exception, null);
                }

                window.Release();
            }, TaskContinuationOptions.ExecuteSynchronously);
        }

        for (var i = 0; i < CreateWindow; i++)
            await window.WaitAsync();
        if (failed > 0)
            throw new InvalidOperationException($"{failed} creates had no answer: {firstFailure?.GetBaseException().Message}");
        if (rejected > 0)
            throw new InvalidOperationException($"{rejected} creates refused or not new, first: {firstRejection}");
        return (created, rejected);
    }

    /// <summary>
    /// Polls <c>refresh_items</c> until every item's stored state is the last one the syncer returned; <c>null</c> then, else
    /// (after <paramref name="timeout"/>) what differs.
    /// </summary>
    private static async Task<string?> WaitStoredAsync(string dbFile, VersionSyncer syncer, string[] ids, TimeSpan timeout)
    {
        await using var connection = new SqliteConnection($"Data Source={dbFile};Mode=ReadOnly");
        await connection.OpenAsync();
        await using var read = connection.CreateCommand();
        read.CommandText = "SELECT id, state FROM refresh_items WHERE id LIKE 'bench:%'";
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var stored = new Dictionary<string, string>(ids.Length, StringComparer.Ordinal);
            await using (var reader = await read.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                    stored[reader.GetString(0)] = reader.GetString(1);
            }

            var wrong = ids.Where(id => stored.GetValueOrDefault(id) != syncer.LastState(id)).ToArray();
            if (wrong.Length == 0)
                return null;
            if (deadline.Elapsed > timeout)
            {
                var first = wrong[0];
                return $"{wrong.Length} of {ids.Length} items: the stored state is not the last one synced " +
                       $"(e.g. {first}: stored {stored.GetValueOrDefault(first) ?? "nothing"}, last synced {syncer.LastState(first)})";
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100));
        }
    }

    private static async Task UntilAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            if (deadline.Elapsed > timeout)
                throw new TimeoutException($"not within {timeout.TotalSeconds:0} s: {what}");
            await Task.Delay(TimeSpan.FromMilliseconds(25));
        }
    }

    /// <summary>
    /// Completed and skipped cycles from the library's own instruments (<c>akka.write_behind.refresh.cycle_duration</c>: one
    /// measurement per completed cycle; <c>skipped_cycles</c>).
    /// </summary>
    private sealed class CycleMeter : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly Lock _gate = new();
        private long _completed;
        private long _skipped;
        private double _seconds;

        public CycleMeter()
        {
            _listener.InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == WriteBehindMetrics.MeterName &&
                    instrument.Name is "akka.write_behind.refresh.cycle_duration" or "akka.write_behind.refresh.skipped_cycles")
                    l.EnableMeasurementEvents(instrument);
            };
            _listener.SetMeasurementEventCallback<double>((_, value, _, _) =>
            {
                lock (_gate)
                {
                    _completed++;
                    _seconds += value;
                }
            });
            _listener.SetMeasurementEventCallback<long>((_, value, _, _) =>
            {
                lock (_gate)
                    _skipped += value;
            });
            _listener.Start();
        }

        public (long Completed, long Skipped, double Seconds) Read()
        {
            lock (_gate)
                return (_completed, _skipped, _seconds);
        }

        public void Dispose() => _listener.Dispose();
    }
}

/// <summary>
/// The benchmark's syncer, in process: every sync of a known item returns <c>{"v":n}</c> with n one more than the last
/// state it returned for that item (so every sync is a change the entity stores), until <see cref="Freeze"/>, after which
/// it answers <see cref="SyncUnchanged"/>. Counts syncs per item, the most syncs of one item in flight at once, and inputs
/// that are not the state it returned last for the item (the cache is expected to hand back what it was given).
/// </summary>
internal sealed class VersionSyncer : IItemSyncer
{
    private readonly Dictionary<string, int> _index;
    private readonly long[] _counts;
    private readonly long[] _versions;
    private readonly int[] _active;
    private long _total;
    private long _stale;
    private int _maxActive;
    private volatile bool _frozen;

    public VersionSyncer(string[] ids)
    {
        _index = new Dictionary<string, int>(ids.Length, StringComparer.Ordinal);
        for (var i = 0; i < ids.Length; i++)
            _index[ids[i]] = i;
        _counts = new long[ids.Length];
        _versions = new long[ids.Length];
        _active = new int[ids.Length];
    }

    public static string StateOf(long version) => string.Create(CultureInfo.InvariantCulture, $"{{\"v\":{version}}}");

    /// <summary>Syncs of every item (the warm-up item included).</summary>
    public long TotalSyncs => Interlocked.Read(ref _total);

    public long StaleInputs => Interlocked.Read(ref _stale);

    public int MaxActivePerItem => Volatile.Read(ref _maxActive);

    public bool AllSyncedOnce => Counts().All(c => c > 0);

    public long[] Counts()
    {
        var counts = new long[_counts.Length];
        for (var i = 0; i < counts.Length; i++)
            counts[i] = Interlocked.Read(ref _counts[i]);
        return counts;
    }

    public string LastState(string id) => StateOf(Interlocked.Read(ref _versions[_index[id]]));

    /// <summary>From now on every sync answers "unchanged".</summary>
    public void Freeze() => _frozen = true;

    public Task<IReadOnlyList<SyncResult>> SyncAsync(IReadOnlyList<RefreshItem> items, CancellationToken cancellationToken)
    {
        var results = new SyncResult[items.Count];
        for (var i = 0; i < items.Count; i++)
        {
            var item = items[i];
            Interlocked.Increment(ref _total);
            if (!_index.TryGetValue(item.Id, out var k))
            {
                results[i] = SyncResult.Unchanged(item.Id); // warm-up item
                continue;
            }

            var active = Interlocked.Increment(ref _active[k]);
            int max;
            while (active > (max = Volatile.Read(ref _maxActive)) && Interlocked.CompareExchange(ref _maxActive, active, max) != max)
            {
            }

            Interlocked.Increment(ref _counts[k]);
            var version = Interlocked.Read(ref _versions[k]);
            if (item.State != StateOf(version))
                Interlocked.Increment(ref _stale);
            if (_frozen)
                results[i] = SyncResult.Unchanged(item.Id);
            else
            {
                Interlocked.Exchange(ref _versions[k], version + 1);
                results[i] = SyncResult.Updated(item with { State = StateOf(version + 1) });
            }

            Interlocked.Decrement(ref _active[k]);
        }

        return Task.FromResult<IReadOnlyList<SyncResult>>(results);
    }
}

/// <summary>Counts the writes (saves and deletes) that reach the real refresh store.</summary>
internal sealed class CountingRefreshStore(IRefreshItemStore inner) : IRefreshItemStore
{
    private long _writes;

    public long Writes => Interlocked.Read(ref _writes);

    public Task InitializeAsync(CancellationToken cancellationToken = default) => inner.InitializeAsync(cancellationToken);

    public Task<RefreshItem?> LoadAsync(string id, CancellationToken cancellationToken = default) => inner.LoadAsync(id, cancellationToken);

    public async Task SaveAsync(RefreshItem item, CancellationToken cancellationToken = default)
    {
        await inner.SaveAsync(item, cancellationToken).ConfigureAwait(false);
        Interlocked.Increment(ref _writes);
    }

    public async Task DeleteAsync(string id, CancellationToken cancellationToken = default)
    {
        await inner.DeleteAsync(id, cancellationToken).ConfigureAwait(false);
        Interlocked.Increment(ref _writes);
    }

    public async Task ApplyAsync(IReadOnlyList<RefreshItemWrite> writes, CancellationToken cancellationToken = default)
    {
        await inner.ApplyAsync(writes, cancellationToken).ConfigureAwait(false);
        Interlocked.Add(ref _writes, writes.Count);
    }

    public Task<IReadOnlyList<string>> ActiveIdsAsync(string? after, int limit, CancellationToken cancellationToken = default) =>
        inner.ActiveIdsAsync(after, limit, cancellationToken);
}
