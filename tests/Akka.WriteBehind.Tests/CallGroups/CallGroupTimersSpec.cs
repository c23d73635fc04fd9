using Akka.Actor;
using Akka.TestKit;
using Akka.WriteBehind.CallGroups;
using Akka.WriteBehind.Counters;
using Akka.WriteBehind.Tests.Support;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.CallGroups;

/// <summary>
/// The aggregator's two timers on virtual time, with probes for the targets: the group's deadline settles what is unanswered
/// exactly at the timeout, and after it the aggregator lingers exactly <c>late-reply-grace</c> for late answers.
/// </summary>
public sealed class CallGroupTimersSpec(ITestOutputHelper output) : VirtualTimeSpecBase("""
    akka.write-behind.inflight.call-group.late-reply-grace = 20s
    """, output)
{
    private static readonly TimeSpan GroupTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Should_answer_the_deadline_outcome_when_virtual_time_reaches_the_timeout_and_not_before()
    {
        var (answering, silent, aggregator) = await StartGroupAsync();
        aggregator.Tell(new IncrementAccepted("answered", 1), answering.Ref);

        Advance(GroupTimeout - Step);
        await ExpectNoMsgAsync(Quiet);

        Advance(Step);
        var completed = await ExpectMsgAsync<CallGroupCompleted<string>>(Timeout);
        Assert.Equal(5, completed.GroupId);
        Assert.Equal(new Outcome.Succeeded(new IncrementAccepted("answered", 1)), completed.Outcomes["answered"]);
        var timedOut = Assert.IsType<Outcome.TimedOut>(completed.Outcomes["silent"]);
        Assert.Equal(ErrorCode.Timeout, timedOut.Code);
        Assert.False(timedOut.Cancelled);
        await ExpectNoMsgAsync(Quiet); // once
        await silent.ExpectNoMsgAsync(Quiet);
    }

    [Fact]
    public async Task Should_linger_for_late_answers_exactly_the_late_reply_grace_after_the_deadline()
    {
        var (_, _, aggregator) = await StartGroupAsync();
        Watch(aggregator);
        Advance(GroupTimeout);
        await ExpectMsgAsync<CallGroupCompleted<string>>(Timeout);

        Advance(Grace - Step);
        await ExpectNoMsgAsync(Quiet); // still lingering: no Terminated

        Advance(Step);
        await ExpectTerminatedAsync(aggregator, Timeout);
    }

    [Fact]
    public async Task Should_stop_at_the_last_late_answer_within_the_grace_and_ignore_a_cancel_while_lingering()
    {
        var (answering, silent, aggregator) = await StartGroupAsync();
        Watch(aggregator);
        Advance(GroupTimeout);
        await ExpectMsgAsync<CallGroupCompleted<string>>(Timeout);

        aggregator.Tell(CancelCallGroup.Instance); // completed: nothing left to give up on, no second result
        aggregator.Tell(new IncrementAccepted("answered", 1), answering.Ref);
        await ExpectNoMsgAsync(Quiet); // one late answer of two: still lingering

        aggregator.Tell(new IncrementAccepted("silent", 1), silent.Ref);
        await ExpectTerminatedAsync(aggregator, Timeout); // the last one came: no need to wait out the grace
    }

    /// <summary>A group of one operation that will be answered and one that never is; returns once both were sent.</summary>
    private async Task<(TestProbe Answering, TestProbe Silent, IActorRef Aggregator)> StartGroupAsync()
    {
        var answering = CreateTestProbe();
        var silent = CreateTestProbe();
        var group = CallGroup<string>.Create()
            .Add("answered", new CounterGroupOperation(answering.Ref, new Increment("answered", 1)))
            .Add("silent", new CounterGroupOperation(silent.Ref, new Increment("silent", 1)));
        var aggregator = group.Start(Sys, Sys, GroupTimeout, TestActor, groupId: 5);
        // both are sent in PreStart, after the deadline's timer started: from here virtual time counts for it
        await answering.ExpectMsgAsync<Increment>(Timeout);
        await silent.ExpectMsgAsync<Increment>(Timeout);
        return (answering, silent, aggregator);
    }
}
