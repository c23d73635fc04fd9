using Akka.Actor;
using Akka.Event;
using Akka.WriteBehind.Batches;
using Akka.WriteBehind.CallGroups;
using Akka.WriteBehind.Counters;
using Akka.WriteBehind.Queues;
using Akka.WriteBehind.Samples.Accounts;
using Akka.WriteBehind.Tests.Support;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.CallGroups;

/// <summary>Call groups over real counters and real accounts (SQLite) on a one-node cluster.</summary>
public sealed class CallGroupSpec(ITestOutputHelper output) : CounterSpecBase(output, """
    akka.write-behind.inflight.call-group.late-reply-grace = 20s
    """)
{
    private static readonly TimeSpan GroupTimeout = TimeSpan.FromSeconds(20);
    private readonly TempDirectory _accountsDir = new();
    private readonly List<object> _deadLetters = new();
    private BatchProcessor<Account> _accounts = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _accounts = await WriteBehindBatches.StartAsync(Sys, AccountOperations.TypeName, SqliteAccountStore.ForDirectory(_accountsDir.Path),
            AccountOperations.Instance);
        var listener = Sys.ActorOf(Props.Create(() => new DeadLetterCollector(_deadLetters)));
        Sys.EventStream.Subscribe(listener, typeof(AllDeadLetters));
    }

    protected override void AfterAll()
    {
        base.AfterAll();
        _accountsDir.Dispose();
    }

    [Fact]
    public async Task Should_complete_once_with_every_outcome_including_partial_failures()
    {
        await _accounts.RunAsync("acct-1", new Deposit(100));
        var group = CallGroup<string>.Create()
            .AddCounter("inc-a", Region, new Increment("cg-a", 5))
            .AddCounter("inc-b", Region, new Increment("cg-b", 7))
            .AddCounter("bad-key", Region, new Increment("", 1))
            .AddBatch("deposit", _accounts, "acct-1", new Deposit(10))
            .AddBatch("overdraw", _accounts, "acct-2", new Withdraw(10))
            .AddBatch("bad-amount", _accounts, "acct-1", new Withdraw(-1));

        group.Start(Sys, Sys, GroupTimeout, TestActor, groupId: 42);

        var completed = await ExpectMsgAsync<CallGroupCompleted<string>>(GroupTimeout + TimeSpan.FromSeconds(10));
        Assert.Equal(42, completed.GroupId);
        var outcomes = completed.Outcomes;
        Assert.Equal(6, outcomes.Count);
        Assert.Equal(new Outcome.Succeeded(new IncrementAccepted("cg-a", 5)), outcomes["inc-a"]);
        Assert.Equal(new Outcome.Succeeded(new IncrementAccepted("cg-b", 7)), outcomes["inc-b"]);
        Assert.Equal(ErrorCode.InvalidKey, outcomes["bad-key"].Code);
        Assert.Equal(new Outcome.Succeeded(new AccountBalance(110)), outcomes["deposit"]);
        var overdraw = Assert.IsType<Outcome.Failed>(outcomes["overdraw"]);
        Assert.Equal(ErrorCode.Rejected, overdraw.Error);
        Assert.True(overdraw.IsRejection);
        Assert.Equal(ErrorCode.InvalidArgument, outcomes["bad-amount"].Code);

        // exactly once: no second result, and the aggregator is gone
        await ExpectNoMsgAsync(TimeSpan.FromMilliseconds(500));
        Assert.Equal(110, (await _accounts.RunAsync("acct-1", GetBalance.Instance)).Balance);
        Assert.Equal(5, Assert.IsType<CounterValue>(await AskAsync(new GetCounter("cg-a"))).Total);
    }

    [Fact]
    public async Task Should_run_commands_for_the_same_counter_key_in_the_group_order()
    {
        var group = CallGroup<int>.Of(new[]
        {
            Pair(0, new CounterGroupOperation(Region, new Increment("ordered", 3))),
            Pair(1, new CounterGroupOperation(Region, new Increment("ordered", 4))),
            Pair(2, new CounterGroupOperation(Region, new GetCounter("ordered"))),
            Pair(3, new CounterGroupOperation(Region, new Increment("ordered", 5))),
        });

        var outcomes = await group.RunAsync(Sys, GroupTimeout);

        Assert.Equal(4, outcomes.Count);
        var read = Assert.IsType<CounterValue>(Assert.IsType<Outcome.Succeeded>(outcomes[2]).Result);
        Assert.Equal(7, read.Total);
        Assert.Equal(new Outcome.Succeeded(new IncrementAccepted("ordered", 5)), outcomes[3]);
    }

    [Fact]
    public async Task Should_time_out_unanswered_operations_at_the_deadline_and_ignore_their_late_answers()
    {
        var silent = CreateTestProbe();
        var group = CallGroup<string>.Create()
            .AddCounter("answered", Region, new Increment("cg-late", 1))
            .Add("silent", new CounterGroupOperation(silent.Ref, new Increment("nobody-answers", 1)))
            .AddBatch("slow", _accounts, "acct-late", new Deposit(1));

        var aggregator = group.Start(Sys, Sys, TimeSpan.FromSeconds(3), TestActor);
        Watch(aggregator);
        await silent.ExpectMsgAsync<Increment>();

        // the accounts answer in ~100 ms (min-duration); the silent target never does
        var completed = await ExpectMsgAsync<CallGroupCompleted<string>>(TimeSpan.FromSeconds(30));
        Assert.Equal(new Outcome.Succeeded(new IncrementAccepted("cg-late", 1)), completed.Outcomes["answered"]);
        Assert.Equal(new Outcome.Succeeded(new AccountBalance(1)), completed.Outcomes["slow"]);
        var timedOut = Assert.IsType<Outcome.TimedOut>(completed.Outcomes["silent"]);
        Assert.Equal(ErrorCode.Timeout, timedOut.Code);
        Assert.False(timedOut.Cancelled);

        // the late answer is swallowed by the lingering aggregator: no second result, no dead letter, then it stops
        silent.LastSender.Tell(new IncrementAccepted("nobody-answers", 1), silent.Ref);
        await ExpectTerminatedAsync(aggregator, TimeSpan.FromSeconds(15));
        await ExpectNoMsgAsync(TimeSpan.FromMilliseconds(300));
        lock (_deadLetters)
            Assert.DoesNotContain(_deadLetters, m => m is ICounterReply or IOperationReply);
    }

    [Fact]
    public async Task Should_settle_every_operation_once_when_the_caller_cancels()
    {
        var silent = CreateTestProbe();
        var group = CallGroup<int>.Create()
            .Add(1, new CounterGroupOperation(silent.Ref, new Increment("never", 1)))
            .Add(2, new CounterGroupOperation(silent.Ref, new Increment("never", 2))); // waits behind 1 (same key): never sent
        using var cancel = new CancellationTokenSource();

        var run = group.RunAsync(Sys, TimeSpan.FromMinutes(5), cancel.Token);
        await silent.ExpectMsgAsync<Increment>();
        await cancel.CancelAsync();
        var outcomes = await run.WaitAsync(AwaitTimeout);

        Assert.All(outcomes.Values, o => Assert.Equal(ErrorCode.Cancelled, o.Code));
        Assert.Equal(2, outcomes.Count);
        await silent.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(300));
    }

    [Fact]
    public void Should_reject_a_duplicate_operation_id_before_running()
    {
        var group = CallGroup<string>.Create().AddCounter("x", Region, new Increment("k", 1));

        var added = Assert.Throws<DuplicateOperationIdException>(() => group.AddCounter("x", Region, new Increment("k2", 1)));
        Assert.Equal("x", added.Id);
        Assert.Equal(1, group.Count); // the group is immutable: a failed Add leaves it as it was

        var built = Assert.Throws<DuplicateOperationIdException>(() => CallGroup<int>.Of(new[]
        {
            Pair(1, new CounterGroupOperation(Region, new Increment("k", 1))),
            Pair(1, new CounterGroupOperation(Region, new Increment("k", 2))),
        }));
        Assert.Equal(1, built.Id);
    }

    [Fact]
    public async Task Should_complete_an_empty_group_at_once()
    {
        var outcomes = await CallGroup<int>.Create().RunAsync(Sys, GroupTimeout).WaitAsync(AwaitTimeout);
        Assert.Empty(outcomes);
    }

    private static KeyValuePair<int, IGroupOperation> Pair(int id, IGroupOperation operation) => new(id, operation);

    private sealed class DeadLetterCollector : ReceiveActor
    {
        public DeadLetterCollector(List<object> collected)
        {
            Receive<AllDeadLetters>(d =>
            {
                lock (collected)
                    collected.Add(d.Message);
            });
        }
    }
}
