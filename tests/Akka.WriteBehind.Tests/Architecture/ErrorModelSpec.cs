using Akka.Actor;
using Akka.WriteBehind.Batches;
using Akka.WriteBehind.CallGroups;
using Akka.WriteBehind.Counters;
using Akka.WriteBehind.Refresh;
using Akka.WriteBehind.Samples.Accounts;
using Akka.WriteBehind.Tests.Support;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Architecture;

/// <summary>
/// One error model across the features: the same bad input gets the same <see cref="ErrorCode"/> from counters, batches,
/// the refresh cache and call groups, as a typed reply, an outcome, or (for an awaited call with a typed result) a
/// <see cref="WriteBehindException"/>. Counters, accounts and items run on real SQLite on a one-node cluster.
/// </summary>
public sealed class ErrorModelSpec(ITestOutputHelper output) : CounterSpecBase(output)
{
    private const string BadKey = "";
    private static readonly string BadRequestId = new('r', RequestIds.MaxLength + 1);
    private readonly TempDirectory _dir = new();
    private BatchProcessor<Account> _accounts = null!;
    private RefreshSet _items = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _accounts = await WriteBehindBatches.StartAsync(Sys, AccountOperations.TypeName, SqliteAccountStore.ForDirectory(_dir.Path),
            AccountOperations.Instance);
        _items = await WriteBehindRefresh.StartAsync(Sys, SqliteRefreshItemStore.ForDirectory(_dir.Path, "items.db"), syncer: null);
    }

    protected override void AfterAll()
    {
        base.AfterAll();
        _dir.Dispose();
    }

    [Fact]
    public async Task Should_refuse_a_bad_key_and_a_bad_request_id_of_a_counter_with_the_shared_codes()
    {
        Assert.Equal(ErrorCode.InvalidKey, Rejected(await Counters.IncrementAsync(BadKey, 1)));
        Assert.Equal(ErrorCode.InvalidKey, Rejected(await AskAsync(new Increment(BadKey, 1))));
        Assert.Equal(ErrorCode.InvalidArgument, Rejected(await Counters.IncrementAsync("counter", 1, BadRequestId)));
        Assert.Equal(ErrorCode.InvalidArgument, Rejected(await AskAsync(new Increment("counter", 1) { RequestId = BadRequestId })));
    }

    [Fact]
    public void Should_give_the_fire_and_forget_fast_path_the_shared_code_of_each_refusal()
    {
        Assert.Equal(ErrorCode.InvalidKey, Counters.Increment(BadKey, 1).ToErrorCode());
        Assert.Null(Counters.Increment("counter", 1).ToErrorCode());
        // every refusal is the error model's code of the same name
        foreach (var status in Enum.GetValues<FastIncrementStatus>().Where(s => s != FastIncrementStatus.Buffered))
            Assert.Equal(Enum.Parse<ErrorCode>(status.ToString()), status.ToErrorCode());
    }

    [Fact]
    public async Task Should_refuse_a_bad_key_and_a_bad_request_id_of_a_batch_with_the_shared_codes()
    {
        var badKey = await Assert.ThrowsAnyAsync<WriteBehindException>(() => _accounts.RunAsync(BadKey, new Deposit(1)));
        Assert.Equal(ErrorCode.InvalidKey, badKey.Code);
        var badId = await Assert.ThrowsAnyAsync<WriteBehindException>(() => _accounts.RunAsync("account", new Deposit(1), BadRequestId));
        Assert.Equal(ErrorCode.InvalidArgument, badId.Code);
    }

    [Fact]
    public async Task Should_refuse_a_bad_key_and_a_bad_request_id_of_an_item_with_the_shared_codes()
    {
        Assert.Equal(ErrorCode.InvalidKey, (await AskItem(new GetItem(BadKey))).Code);
        Assert.Equal(ErrorCode.InvalidKey, (await AskItem(new PutItem(new RefreshItem(BadKey, "{}")))).Code);
        Assert.Equal(ErrorCode.InvalidArgument, (await AskItem(new PutItem(new RefreshItem("item", "{}")) { RequestId = BadRequestId })).Code);
    }

    [Fact]
    public async Task Should_give_a_bad_key_and_a_bad_request_id_in_a_call_group_the_shared_codes_for_every_feature()
    {
        var group = CallGroup<string>.Create()
            .AddCounter("counter-key", Region, new Increment(BadKey, 1))
            .AddCounter("counter-id", Region, new Increment("counter", 1) { RequestId = BadRequestId })
            .AddBatch("batch-key", _accounts, BadKey, new Deposit(1))
            .AddBatch("batch-id", _accounts, "account", new Deposit(1), BadRequestId);

        var outcomes = await group.RunAsync(Sys, TimeSpan.FromSeconds(20));

        Assert.Equal(ErrorCode.InvalidKey, outcomes["counter-key"].Code);
        Assert.Equal(ErrorCode.InvalidKey, outcomes["batch-key"].Code);
        Assert.Equal(ErrorCode.InvalidArgument, outcomes["counter-id"].Code);
        Assert.Equal(ErrorCode.InvalidArgument, outcomes["batch-id"].Code);
    }

    private static ErrorCode Rejected(ICounterReply reply) => Assert.IsType<CounterRejected>(reply).Code;

    private async Task<RefreshRejected> AskItem(IRefreshCommand command) =>
        Assert.IsType<RefreshRejected>(await _items.Region.Ask<IRefreshReply>(command, AskTimeout));
}
