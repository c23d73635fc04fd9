using Akka.Actor;
using Akka.WriteBehind.Refresh;
using Akka.WriteBehind.Tests.Support;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Refresh;

/// <summary>
/// One refresh item entity, driven directly (probes for its supervisor and store writer): what it does between a stop
/// (hand-off or passivation) and the end of its writes.
/// </summary>
public sealed class RefreshItemStoppingSpec : Akka.TestKit.Xunit2.TestKit, IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);
    private readonly TempDirectory _dir = new();
    private readonly SqliteRefreshItemStore _store;

    public RefreshItemStoppingSpec(ITestOutputHelper output) : base("akka.write-behind.refresh.store-writer.write-timeout = 60s", output: output) =>
        _store = SqliteRefreshItemStore.ForDirectory(_dir.Path);

    public Task InitializeAsync() => _store.InitializeAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    protected override void AfterAll()
    {
        base.AfterAll();
        _dir.Dispose();
    }

    [Fact]
    public async Task Should_refuse_new_changes_while_stopping_and_stop_once_the_pending_write_is_stored()
    {
        var (item, writer, write) = await StartWithPutAsync("a");
        item.Tell(StopItem.Instance);

        item.Tell(new PutItem(new RefreshItem("a", "two")), TestActor);
        Assert.Equal(ErrorCode.ShuttingDown, (await ExpectMsgAsync<RefreshRejected>(Timeout)).Code);
        item.Tell(new UpdateItem(new RefreshItem("a", "three")), TestActor);
        Assert.Equal(ErrorCode.ShuttingDown, (await ExpectMsgAsync<RefreshRejected>(Timeout)).Code);
        item.Tell(new ApplySync(new SyncUpdated(new RefreshItem("a", "synced")), write.Version), TestActor);
        item.Tell(new GetItem("a"), TestActor); // a read still waits for the stored state, the sync's result dropped

        item.Tell(new ItemWritten("a", write.Version), writer.Ref);
        Assert.Equal("one", (await ExpectMsgAsync<RefreshItemReply>(Timeout)).Item.State);
        Assert.Equal("one", (await ExpectMsgAsync<RefreshItemReply>(Timeout)).Item.State);
        await ExpectTerminatedAsync(item, Timeout);
        await writer.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200)); // the dropped sync result was never written
    }

    [Fact]
    public async Task Should_keep_running_when_a_write_is_stored_before_any_stop()
    {
        var (item, writer, write) = await StartWithPutAsync("b");
        item.Tell(new ItemWritten("b", write.Version), writer.Ref);
        await ExpectMsgAsync<RefreshItemReply>(Timeout);

        item.Tell(new PutItem(new RefreshItem("b", "two")), TestActor);
        Assert.Equal("two", (await writer.ExpectMsgAsync<WriteItem>(Timeout)).Write.Item!.State);
    }

    // an entity of the item id, watched, whose first change ("one") is in flight to the writer probe
    private async Task<(IActorRef Item, Akka.TestKit.TestProbe Writer, WriteItem Write)> StartWithPutAsync(string id)
    {
        var writer = CreateTestProbe();
        var item = Sys.ActorOf(RefreshItemActor.Props(id, RefreshSettings.Create(Sys), _store, CreateTestProbe().Ref, writer.Ref));
        Watch(item);
        item.Tell(new PutItem(new RefreshItem(id, "one")), TestActor);
        return (item, writer, await writer.ExpectMsgAsync<WriteItem>(Timeout));
    }
}
