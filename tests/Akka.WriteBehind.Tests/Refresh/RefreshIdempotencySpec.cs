using Akka.WriteBehind.Refresh;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Refresh;

/// <summary>A <see cref="PutItem"/> or <see cref="DeleteItem"/> with a request id is applied once and answered as the first was.</summary>
public sealed class RefreshIdempotencySpec(ITestOutputHelper output) : RefreshSpecBase(output)
{
    [Fact]
    public async Task Should_answer_a_repeated_put_as_the_first_without_applying_it_again()
    {
        var first = Assert.IsType<RefreshItemReply>(await AskAsync(new PutItem(new RefreshItem("p", "{\"v\":1}")) { RequestId = "put-1" }));
        Assert.True(first.Created);
        // another caller replaces the item; the first caller's retry must not put v1 back
        Assert.IsType<RefreshItemReply>(await AskAsync(new PutItem(new RefreshItem("p", "{\"v\":2}"))));

        var repeat = Assert.IsType<RefreshItemReply>(await AskAsync(new PutItem(new RefreshItem("p", "{\"v\":1}")) { RequestId = "put-1" }));
        Assert.Equal(first, repeat);
        Assert.Equal("{\"v\":2}", Assert.IsType<RefreshItemReply>(await AskAsync(new GetItem("p"))).Item.State);
        Assert.Equal("{\"v\":2}", (await Store.LoadAsync("p"))!.State);
    }

    [Fact]
    public async Task Should_answer_a_repeated_delete_as_the_first()
    {
        Assert.IsType<RefreshItemReply>(await AskAsync(new PutItem(new RefreshItem("d", "{}"))));
        Assert.Equal(new RefreshItemDeleted("d"), await AskAsync(new DeleteItem("d") { RequestId = "del-1" }));
        // without the id the item is gone (404); with it, the first answer
        Assert.Equal(ErrorCode.NotFound, Assert.IsType<RefreshRejected>(await AskAsync(new DeleteItem("d"))).Code);
        Assert.Equal(new RefreshItemDeleted("d"), await AskAsync(new DeleteItem("d") { RequestId = "del-1" }));
    }

    [Fact]
    public async Task Should_refuse_an_invalid_request_id_and_apply_nothing()
    {
        var rejected = Assert.IsType<RefreshRejected>(await AskAsync(new PutItem(new RefreshItem("bad", "{}")) { RequestId = "no spaces" }));
        Assert.Equal(ErrorCode.InvalidArgument, rejected.Code);
        Assert.Equal(ErrorCode.NotFound, Assert.IsType<RefreshRejected>(await AskAsync(new GetItem("bad"))).Code);
    }
}
