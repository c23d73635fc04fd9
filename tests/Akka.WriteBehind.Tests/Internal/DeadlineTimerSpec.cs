using Akka.Actor;
using Akka.Event;
using Akka.WriteBehind.Internal;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Internal;

public sealed class DeadlineTimerSpec(ITestOutputHelper output) : Akka.TestKit.Xunit2.TestKit(output: output)
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(10);

    private sealed record Due(string Name) : IDeadLetterSuppression;

    [Fact]
    public async Task Should_tell_messages_in_the_order_of_their_deadlines()
    {
        using var timer = new DeadlineTimer("spec-deadlines");
        var probe = CreateTestProbe();

        timer.Schedule(probe.Ref, new Due("late"), TimeSpan.FromMilliseconds(600));
        timer.Schedule(probe.Ref, new Due("soon"), TimeSpan.FromMilliseconds(200));
        timer.Schedule(probe.Ref, new Due("now"), TimeSpan.Zero);

        Assert.Equal("now", (await probe.ExpectMsgAsync<Due>(Generous)).Name);
        Assert.Equal("soon", (await probe.ExpectMsgAsync<Due>(Generous)).Name);
        Assert.Equal("late", (await probe.ExpectMsgAsync<Due>(Generous)).Name);
    }

    [Fact]
    public async Task Should_wake_for_a_deadline_earlier_than_the_one_it_sleeps_for()
    {
        using var timer = new DeadlineTimer("spec-deadlines");
        var probe = CreateTestProbe();
        timer.Schedule(probe.Ref, new Due("in an hour"), TimeSpan.FromHours(1));
        await AwaitConditionAsync(() => Task.FromResult(timer.Pending == 1), Generous);

        timer.Schedule(probe.Ref, new Due("now"), TimeSpan.Zero);

        Assert.Equal("now", (await probe.ExpectMsgAsync<Due>(Generous)).Name);
        Assert.Equal(1, timer.Pending);
    }

    [Fact]
    public async Task Should_tell_nothing_once_disposed()
    {
        var timer = new DeadlineTimer("spec-deadlines");
        var probe = CreateTestProbe();
        timer.Schedule(probe.Ref, new Due("cancelled"), TimeSpan.FromMilliseconds(300));

        timer.Dispose();
        timer.Schedule(probe.Ref, new Due("after dispose"), TimeSpan.Zero);

        await probe.ExpectNoMsgAsync(TimeSpan.FromSeconds(1));
        Assert.Equal(0, timer.Pending);
    }
}
