using Akka.Actor;
using Akka.Configuration;
using Akka.WriteBehind.Refresh;
using Akka.WriteBehind.Tests.Support;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Refresh;

/// <summary>
/// An item entity's load retry on virtual time, alone over a real SQLite store whose first load fails, with probes for its
/// node's supervisor and store writer: the load is retried after the back-off and not before, and the command that waited
/// is answered from the stored item then.
/// </summary>
public sealed class RefreshItemLoadRetrySpec(ITestOutputHelper output) : VirtualTimeSpecBase("", output)
{
    private static readonly TimeSpan Backoff = TimeSpan.FromSeconds(5);
    private readonly TempDirectory _dir = new();

    [Fact]
    public async Task Should_retry_a_failed_load_after_the_back_off_and_not_before()
    {
        var settings = RefreshSettings.FromConfig(ConfigurationFactory.ParseString($$"""
            entity-buffer-size = 1
            retry { min-backoff = {{Backoff.TotalSeconds}}s, random-factor = 0 }
            """).WithFallback(WriteBehindConfig.DefaultConfig().GetConfig(RefreshSettings.ConfigPath)));
        var sqlite = SqliteRefreshItemStore.ForDirectory(_dir.Path);
        await sqlite.InitializeAsync();
        var stored = new RefreshItem("retried", "{\"v\":1}", Terminal: true); // terminal: loaded, it is not tracked
        await sqlite.SaveAsync(stored);
        var store = new FirstLoadFails(sqlite);

        IActorRef item = null!;
        await EventFilter.Warning(contains: "loading failed").ExpectOneAsync(() =>
        {
            item = Sys.ActorOf(RefreshItemActor.Props("retried", settings, store, CreateTestProbe().Ref, CreateTestProbe().Ref));
            item.Tell(new GetItem("retried"), TestActor); // waits for the load (the buffer's one place)
            return Task.CompletedTask;
        });
        // told after the failure was handled (its retry timer armed): refused at once, the buffer is full
        item.Tell(new GetItem("retried"), TestActor);
        Assert.Equal(ErrorCode.Saturated, (await ExpectMsgAsync<RefreshRejected>(Timeout)).Code);

        Advance(Backoff - Step);
        await ExpectNoMsgAsync(Quiet);
        Assert.Equal(1, store.Loads);

        Advance(Step);
        var reply = await ExpectMsgAsync<RefreshItemReply>(Timeout);
        Assert.Equal(stored, reply.Item);
        Assert.Equal(2, store.Loads);
    }

    protected override void AfterAll()
    {
        base.AfterAll();
        _dir.Dispose();
    }

    private sealed class FirstLoadFails(IRefreshItemStore inner) : IRefreshItemStore
    {
        private int _loads;

        public int Loads => Volatile.Read(ref _loads);

        public Task InitializeAsync(CancellationToken cancellationToken = default) => inner.InitializeAsync(cancellationToken);

        public Task<RefreshItem?> LoadAsync(string id, CancellationToken cancellationToken = default) =>
            Interlocked.Increment(ref _loads) == 1
                ? Task.FromException<RefreshItem?>(new InvalidOperationException("disk on fire"))
                : inner.LoadAsync(id, cancellationToken);

        public Task SaveAsync(RefreshItem item, CancellationToken cancellationToken = default) => inner.SaveAsync(item, cancellationToken);

        public Task DeleteAsync(string id, CancellationToken cancellationToken = default) => inner.DeleteAsync(id, cancellationToken);

        public Task<IReadOnlyList<string>> ActiveIdsAsync(string? after, int limit, CancellationToken cancellationToken = default) =>
            inner.ActiveIdsAsync(after, limit, cancellationToken);
    }
}
