using Akka.Actor;
using Akka.WriteBehind.Refresh;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Refresh;

/// <summary>
/// The node's refresh store writer groups the writes of many items into one store transaction; a failing transaction fails
/// the writes of its items, which keep their changes and retry until stored.
/// </summary>
public sealed class RefreshStoreWriterSpec(ITestOutputHelper output)
    : RefreshSpecBase(output, "akka.write-behind.refresh.store-writer { batch-size = 500, batch-delay = 200ms }")
{
    private const int Items = 200;

    private CountingStore _store = null!;
    private RefreshSet _started = null!;

    public override async Task InitializeAsync()
    {
        await Cluster.Cluster.Get(Sys).JoinAsync(Cluster.Cluster.Get(Sys).SelfAddress);
        _store = new CountingStore(Store);
        _started = await WriteBehindRefresh.StartAsync(Sys, _store, Syncer);
    }

    private Task<IRefreshReply[]> AskAllAsync(IEnumerable<IRefreshCommand> commands) =>
        Task.WhenAll(commands.Select(c => _started.Region.Ask<IRefreshReply>(c, AskTimeout)));

    [Fact]
    public async Task Should_store_many_item_changes_in_far_fewer_transactions_than_items()
    {
        Syncer.Outcome = (item, _) => SyncResult.Unchanged(item.Id);
        var ids = Enumerable.Range(0, Items).Select(i => $"job-{i:D3}").ToArray();

        var created = await AskAllAsync(ids.Select(id => new GetOrCreateItem(new RefreshItem(id, $"{{\"id\":\"{id}\"}}"))));

        Assert.All(created, reply => Assert.IsType<RefreshItemReply>(reply));
        foreach (var id in ids)
            Assert.Equal($"{{\"id\":\"{id}\"}}", (await Store.LoadAsync(id))!.State);
        var afterCreates = _store.Transactions;
        Assert.True(afterCreates <= Items / 4, $"{Items} creates took {afterCreates} store transactions");
        Assert.Equal(0, _store.SingleWrites);

        var deleted = await AskAllAsync(ids.Select(id => new DeleteItem(id)));

        Assert.All(deleted, reply => Assert.IsType<RefreshItemDeleted>(reply));
        foreach (var id in ids)
            Assert.Null(await Store.LoadAsync(id));
        var deletes = _store.Transactions - afterCreates;
        Assert.True(deletes <= Items / 4, $"{Items} deletes took {deletes} store transactions");
        Assert.Equal(2 * Items, _store.Rows);
    }

    [Fact]
    public async Task Should_fail_the_writes_of_a_failed_transaction_and_retry_them_until_stored()
    {
        Syncer.Outcome = (item, _) => SyncResult.Unchanged(item.Id);
        var ids = Enumerable.Range(0, 50).Select(i => $"flaky-{i:D2}").ToArray();
        _store.Failing = true;

        // the failed transactions are logged once with their cause, and once when the store answers again
        await EventFilter.Info(contains: "Refresh store answers again after").ExpectAsync(1, async () =>
            await EventFilter.Warning(contains: "Refresh store write").ExpectAsync(1, async () =>
            {
                var replies = await AskAllAsync(ids.Select(id => new PutItem(new RefreshItem(id, "{\"v\":1}"))));

                Assert.All(replies, reply => Assert.Equal(ErrorCode.StoreFailure, Assert.IsType<RefreshRejected>(reply).Code));
                Assert.True(_store.FailedTransactions < ids.Length, $"{ids.Length} writes failed in {_store.FailedTransactions} transactions");
                Assert.Null(await Store.LoadAsync(ids[0]));
                await AwaitConditionAsync(() => Task.FromResult(_store.FailedTransactions >= 3), AwaitTimeout); // retries failed too

                _store.Failing = false;

                await AwaitAssertAsync(async () =>
                {
                    foreach (var id in ids)
                        Assert.Equal("{\"v\":1}", (await Store.LoadAsync(id))?.State); // every item stored by its retries
                }, AwaitTimeout, TimeSpan.FromMilliseconds(100));
            }, AwaitTimeout), AwaitTimeout);
        var read = Assert.IsType<RefreshItemReply>(await _started.Region.Ask<IRefreshReply>(new GetItem(ids[0]), AskTimeout));
        Assert.Equal("{\"v\":1}", read.Item.State);
        Assert.Equal(0, _store.SingleWrites);
    }

    /// <summary>Counts the store transactions (batch calls and single writes) and fails every batch while <see cref="Failing"/>.</summary>
    private sealed class CountingStore(IRefreshItemStore inner) : IRefreshItemStore
    {
        private int _transactions;
        private int _failedTransactions;
        private int _rows;
        private int _singleWrites;
        private volatile bool _failing;

        public bool Failing
        {
            get => _failing;
            set => _failing = value;
        }

        public int Transactions => Volatile.Read(ref _transactions);

        public int FailedTransactions => Volatile.Read(ref _failedTransactions);

        public int Rows => Volatile.Read(ref _rows);

        public int SingleWrites => Volatile.Read(ref _singleWrites);

        public Task InitializeAsync(CancellationToken cancellationToken = default) => inner.InitializeAsync(cancellationToken);

        public Task<RefreshItem?> LoadAsync(string id, CancellationToken cancellationToken = default) => inner.LoadAsync(id, cancellationToken);

        public Task SaveAsync(RefreshItem item, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _singleWrites);
            Interlocked.Increment(ref _transactions);
            return inner.SaveAsync(item, cancellationToken);
        }

        public Task DeleteAsync(string id, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _singleWrites);
            Interlocked.Increment(ref _transactions);
            return inner.DeleteAsync(id, cancellationToken);
        }

        public async Task ApplyAsync(IReadOnlyList<RefreshItemWrite> writes, CancellationToken cancellationToken = default)
        {
            if (_failing)
            {
                Interlocked.Increment(ref _failedTransactions);
                throw new InvalidOperationException("disk on fire");
            }

            await inner.ApplyAsync(writes, cancellationToken);
            Interlocked.Increment(ref _transactions);
            Interlocked.Add(ref _rows, writes.Count);
        }

        public Task<IReadOnlyList<string>> ActiveIdsAsync(string? after, int limit, CancellationToken cancellationToken = default) =>
            inner.ActiveIdsAsync(after, limit, cancellationToken);
    }
}

/// <summary>
/// An item whose write times out retries it; the writer does not apply the write the item gave up on (queued longer than
/// half the write-timeout), so a given-up write can never land after, and overwrite, a newer one.
/// </summary>
public sealed class RefreshStoreWriterTimeoutSpec(ITestOutputHelper output)
    : RefreshSpecBase(output, "akka.write-behind.refresh.store-writer { parallelism = 1, batch-delay = 5ms, write-timeout = 2s }")
{
    private GatedStore _store = null!;
    private RefreshSet _started = null!;

    public override async Task InitializeAsync()
    {
        await Cluster.Cluster.Get(Sys).JoinAsync(Cluster.Cluster.Get(Sys).SelfAddress);
        _store = new GatedStore(Store);
        _started = await WriteBehindRefresh.StartAsync(Sys, _store, Syncer);
    }

    [Fact]
    public async Task Should_retry_a_timed_out_write_and_not_apply_the_write_given_up_on()
    {
        Syncer.Outcome = (item, _) => SyncResult.Unchanged(item.Id);
        var blocker = _started.Region.Ask<IRefreshReply>(new PutItem(new RefreshItem("blocker", "{}")), AskTimeout);
        await UntilAsync(() => _store.Blocked, "the store holds the blocker's transaction");

        // queued behind the blocked transaction: the item hears nothing for write-timeout, answers StoreFailure and retries
        var queued = await _started.Region.Ask<IRefreshReply>(new PutItem(new RefreshItem("queued", "{\"v\":1}")), AskTimeout);
        Assert.Equal(ErrorCode.StoreFailure, Assert.IsType<RefreshRejected>(queued).Code);
        _store.Release();

        await AwaitAssertAsync(async () => Assert.Equal("{\"v\":1}", (await Store.LoadAsync("queued"))?.State),
            AwaitTimeout, TimeSpan.FromMilliseconds(100));
        Assert.Equal(1, _store.RowsOf("queued")); // the retry only: the write given up on was answered failed, not applied
        Assert.IsType<RefreshRejected>(await blocker); // timed out too (its retry stores it)
        await AwaitAssertAsync(async () => Assert.NotNull(await Store.LoadAsync("blocker")), AwaitTimeout, TimeSpan.FromMilliseconds(100));
    }

    /// <summary>Holds the first transaction with the item "blocker" until <see cref="Release"/>; counts the rows per id it applies.</summary>
    private sealed class GatedStore(IRefreshItemStore inner) : IRefreshItemStore
    {
        private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> _rows = new(StringComparer.Ordinal);
        private int _blocked;

        public bool Blocked => Volatile.Read(ref _blocked) == 1;

        public void Release() => _gate.TrySetResult();

        public int RowsOf(string id) => _rows.GetValueOrDefault(id);

        public Task InitializeAsync(CancellationToken cancellationToken = default) => inner.InitializeAsync(cancellationToken);

        public Task<RefreshItem?> LoadAsync(string id, CancellationToken cancellationToken = default) => inner.LoadAsync(id, cancellationToken);

        public Task SaveAsync(RefreshItem item, CancellationToken cancellationToken = default) => inner.SaveAsync(item, cancellationToken);

        public Task DeleteAsync(string id, CancellationToken cancellationToken = default) => inner.DeleteAsync(id, cancellationToken);

        public async Task ApplyAsync(IReadOnlyList<RefreshItemWrite> writes, CancellationToken cancellationToken = default)
        {
            if (writes.Any(w => w.Id == "blocker") && Interlocked.CompareExchange(ref _blocked, 1, 0) == 0)
                await _gate.Task;
            foreach (var write in writes)
                _rows.AddOrUpdate(write.Id, 1, (_, n) => n + 1);
            await inner.ApplyAsync(writes, cancellationToken);
        }

        public Task<IReadOnlyList<string>> ActiveIdsAsync(string? after, int limit, CancellationToken cancellationToken = default) =>
            inner.ActiveIdsAsync(after, limit, cancellationToken);
    }
}
