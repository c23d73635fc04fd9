using Akka.Actor;
using Akka.WriteBehind.Refresh;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Refresh;

/// <summary>A failing store write is answered StoreFailure, the change is kept (served to readers) and retried until stored.</summary>
public sealed class RefreshStoreFailureSpec(ITestOutputHelper output) : RefreshSpecBase(output)
{
    private FlakyStore? _flaky;

    public override async Task InitializeAsync()
    {
        await Cluster.Cluster.Get(Sys).JoinAsync(Cluster.Cluster.Get(Sys).SelfAddress);
        _flaky = new FlakyStore(Store);
        Started = await WriteBehindRefresh.StartAsync(Sys, _flaky, Syncer);
    }

    private RefreshSet Started { get; set; } = null!;

    [Fact]
    public async Task Should_answer_store_failure_keep_the_change_and_retry_it()
    {
        var region = Started.Region;
        Syncer.Outcome = (item, _) => SyncResult.Unchanged(item.Id);
        _flaky!.FailNextSaves(3);

        var reply = await region.Ask<IRefreshReply>(new PutItem(new RefreshItem("flaky", "{\"v\":1}")), AskTimeout);

        Assert.Equal(ErrorCode.StoreFailure, Assert.IsType<RefreshRejected>(reply).Code);
        for (var i = 0; await Store.LoadAsync("flaky") is null; i++)
        {
            Assert.True(i < 300, "the write retried until it succeeds");
            await Task.Delay(100);
        }

        Assert.Equal("{\"v\":1}", (await Store.LoadAsync("flaky"))!.State);
        Assert.Equal(4, _flaky.Saves);
        var read = Assert.IsType<RefreshItemReply>(await region.Ask<IRefreshReply>(new GetItem("flaky"), AskTimeout));
        Assert.Equal("{\"v\":1}", read.Item.State);
    }

    private sealed class FlakyStore(IRefreshItemStore inner) : IRefreshItemStore
    {
        private int _failures;
        private int _saves;

        public int Saves => Volatile.Read(ref _saves);

        public void FailNextSaves(int count) => Volatile.Write(ref _failures, count);

        public Task InitializeAsync(CancellationToken cancellationToken = default) => inner.InitializeAsync(cancellationToken);

        public Task<RefreshItem?> LoadAsync(string id, CancellationToken cancellationToken = default) => inner.LoadAsync(id, cancellationToken);

        public Task SaveAsync(RefreshItem item, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _saves);
            return Interlocked.Decrement(ref _failures) >= 0
                ? Task.FromException(new InvalidOperationException("disk on fire"))
                : inner.SaveAsync(item, cancellationToken);
        }

        public Task DeleteAsync(string id, CancellationToken cancellationToken = default) => inner.DeleteAsync(id, cancellationToken);

        public Task<IReadOnlyList<string>> ActiveIdsAsync(string? after, int limit, CancellationToken cancellationToken = default) =>
            inner.ActiveIdsAsync(after, limit, cancellationToken);
    }
}
