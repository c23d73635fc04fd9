using System.Collections.Concurrent;
using System.Diagnostics;
using Akka.Actor;
using Akka.WriteBehind.Refresh;
using Akka.WriteBehind.Tests.Support;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Refresh;

/// <summary>
/// A syncer for specs: records every sync (item, time, node) and the most syncs of one item ever in flight at once; the
/// outcome per item comes from <see cref="Outcome"/> (default: updated, the state counting the item's syncs).
/// </summary>
internal sealed class FakeSyncer : IItemSyncer
{
    private readonly ConcurrentDictionary<string, int> _count = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _active = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<(string Id, long At, string Node)> _log = new();
    private int _maxActive;
    private int _calls;

    public FakeSyncer(string node = "node")
    {
        Node = node;
    }

    /// <summary>Name recorded with each sync (set per node in multi-node specs through <see cref="ForNode"/>).</summary>
    public string Node { get; }

    /// <summary>Outcome of the n-th sync (1-based) of an item; may throw to fail the whole batch.</summary>
    public Func<RefreshItem, int, SyncResult> Outcome { get; set; } = (item, n) => SyncResult.Updated(item with { State = $"{{\"syncs\":{n}}}" });

    /// <summary>Time each call takes.</summary>
    public TimeSpan Delay { get; set; } = TimeSpan.Zero;

    /// <summary>Awaited by each call before it answers (failure injection: a sync held in flight until released).</summary>
    public Func<Task>? Hold { get; set; }

    public int MaxActivePerItem => Volatile.Read(ref _maxActive);

    public int Calls => Volatile.Read(ref _calls);

    public int Count(string id) => _count.GetValueOrDefault(id);

    public IReadOnlyList<(string Id, long At, string Node)> Log => _log.ToArray();

    /// <summary>A syncer for another node that records into the same log.</summary>
    public IItemSyncer ForNode(string node) => new NodeView(this, node);

    public Task<IReadOnlyList<SyncResult>> SyncAsync(IReadOnlyList<RefreshItem> items, CancellationToken cancellationToken) =>
        SyncAsync(items, Node, cancellationToken);

    private async Task<IReadOnlyList<SyncResult>> SyncAsync(IReadOnlyList<RefreshItem> items, string node, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _calls);
        foreach (var item in items)
        {
            var now = _active.AddOrUpdate(item.Id, 1, (_, n) => n + 1);
            int max;
            while (now > (max = Volatile.Read(ref _maxActive)) && Interlocked.CompareExchange(ref _maxActive, now, max) != max)
            {
            }
        }

        try
        {
            if (Delay > TimeSpan.Zero)
                await Task.Delay(Delay, cancellationToken);
            if (Hold is { } hold)
                await hold().WaitAsync(cancellationToken);
            var results = new List<SyncResult>();
            foreach (var item in items)
            {
                var n = _count.AddOrUpdate(item.Id, 1, (_, c) => c + 1);
                _log.Enqueue((item.Id, Stopwatch.GetTimestamp(), node));
                results.Add(Outcome(item, n));
            }

            return results;
        }
        finally
        {
            foreach (var item in items)
                _active.AddOrUpdate(item.Id, 0, (_, n) => n - 1);
        }
    }

    private sealed class NodeView(FakeSyncer inner, string node) : IItemSyncer
    {
        public Task<IReadOnlyList<SyncResult>> SyncAsync(IReadOnlyList<RefreshItem> items, CancellationToken cancellationToken) =>
            inner.SyncAsync(items, node, cancellationToken);
    }
}

/// <summary>
/// A one-node cluster (the TestKit's system joins itself) running the refresh cache on a SQLite file in a temp directory
/// with a <see cref="FakeSyncer"/>, short periods and serialize-messages on.
/// </summary>
public abstract class RefreshSpecBase : Akka.TestKit.Xunit2.TestKit, IAsyncLifetime
{
    internal static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(15);
    internal static readonly TimeSpan AwaitTimeout = TimeSpan.FromSeconds(30);

    internal const string FastRefresh = """
        akka.actor.serialize-messages = on
        akka.write-behind.refresh {
          resync-period = 300ms
          tps = 1000
          burst = 50
          batch-size = 5
          batch-delay = 20ms
          parallelism = 4
          sync-timeout = 5s
          sync-on-create = off
          wake-interval = off
          retry { min-backoff = 50ms, max-backoff = 500ms }
        }
        """;

    private readonly TempDirectory _dir;
    private RefreshSet? _refresh;

    /// <param name="output">The test's output.</param>
    /// <param name="config">HOCON over <see cref="FastRefresh"/> (or over the library's defaults).</param>
    /// <param name="dir">The database's directory (a new temporary one by default).</param>
    /// <param name="defaults">Start from the library's refresh defaults instead of <see cref="FastRefresh"/>.</param>
    private protected RefreshSpecBase(ITestOutputHelper output, string config = "", TempDirectory? dir = null, bool defaults = false)
        : base(TestConfig.Cluster((defaults ? "" : FastRefresh) + "\n" + config), output: output)
    {
        _dir = dir ?? new TempDirectory();
        Store = SqliteRefreshItemStore.ForDirectory(_dir.Path);
    }

    internal FakeSyncer Syncer { get; } = new();

    internal SqliteRefreshItemStore Store { get; }

    internal TempDirectory Dir => _dir;

    internal RefreshSet Refresh => _refresh ?? throw new InvalidOperationException("not started");

    public virtual async Task InitializeAsync()
    {
        await Cluster.Cluster.Get(Sys).JoinAsync(Cluster.Cluster.Get(Sys).SelfAddress);
        _refresh = await WriteBehindRefresh.StartAsync(Sys, Store, Syncer);
    }

    public virtual async Task DisposeAsync() =>
        await CoordinatedShutdown.Get(Sys).Run(CoordinatedShutdown.ClrExitReason.Instance).WaitAsync(TimeSpan.FromSeconds(60));

    protected override void AfterAll()
    {
        base.AfterAll();
        _dir.Dispose();
    }

    internal Task<IRefreshReply> AskAsync(IRefreshCommand command) => Refresh.Region.Ask<IRefreshReply>(command, AskTimeout);

    internal async Task<RefreshItem> CreateAsync(string id, string state = "{}")
    {
        var reply = Assert.IsType<RefreshItemReply>(await AskAsync(new GetOrCreateItem(new RefreshItem(id, state))));
        return reply.Item;
    }

    internal async Task<RefreshSupervisorState> SupervisorStateAsync() =>
        await Refresh.Supervisor.Ask<RefreshSupervisorState>(GetRefreshSupervisorState.Instance, AskTimeout);

    /// <summary>
    /// Once every item of <paramref name="ids"/> has been synced, waits for <paramref name="syncs"/> more syncs of each and
    /// checks that each item was synced once per cycle started meanwhile: no item more often than the cycles (+1 for the
    /// cycle running at either end) and none left behind (all within 2 of each other).
    /// </summary>
    internal async Task AssertSyncedOncePerCycleAsync(IReadOnlyList<string> ids, int syncs)
    {
        await UntilAsync(() => ids.All(id => Syncer.Count(id) >= 1), "every item synced once");
        var cyclesBefore = (await SupervisorStateAsync()).CyclesStarted;
        var before = ids.ToDictionary(id => id, Syncer.Count);
        await UntilAsync(() => ids.All(id => Syncer.Count(id) >= before[id] + syncs), $"{syncs} more syncs of every item");
        var cycles = (await SupervisorStateAsync()).CyclesStarted - cyclesBefore;

        var added = ids.Select(id => Syncer.Count(id) - before[id]).ToArray();
        Assert.True(added.Max() <= cycles + 1, $"syncs per item {string.Join(",", added)} in {cycles} cycles");
        Assert.True(added.Max() - added.Min() <= 2, $"syncs per item {string.Join(",", added)} in {cycles} cycles");
        Assert.Equal(1, Syncer.MaxActivePerItem);
    }

    /// <summary>Waits until <paramref name="condition"/> holds.</summary>
    internal static Task UntilAsync(Func<bool> condition, string what) => Eventually.TrueAsync(condition, AwaitTimeout, what);
}
