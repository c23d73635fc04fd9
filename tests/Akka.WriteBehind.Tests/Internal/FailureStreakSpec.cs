using Akka.WriteBehind.Internal;

namespace Akka.WriteBehind.Tests.Internal;

public sealed class FailureStreakSpec
{
    [Fact]
    public void Should_single_out_the_first_failure_since_the_last_success()
    {
        var streak = new FailureStreak();

        Assert.True(streak.Failed());
        Assert.False(streak.Failed());
        Assert.False(streak.Failed());
        Assert.Equal(3, streak.Failures);

        Assert.Equal(3, streak.Succeeded(out var lasted));
        Assert.True(lasted >= TimeSpan.Zero);
        Assert.Equal(0, streak.Failures);
        Assert.True(streak.Failed()); // a new streak
    }

    [Fact]
    public void Should_end_nothing_when_a_call_succeeds_without_failures_before_it()
    {
        var streak = new FailureStreak();

        Assert.Equal(0, streak.Succeeded(out var lasted));
        Assert.Equal(TimeSpan.Zero, lasted);
        Assert.True(streak.Failed());
        Assert.Equal(1, streak.Succeeded(out _));
        Assert.Equal(0, streak.Succeeded(out _));
    }

    [Fact]
    public void Should_single_out_exactly_one_first_failure_among_concurrent_ones()
    {
        var streak = new FailureStreak();
        var firsts = 0;

        Parallel.For(0, 10_000, new ParallelOptions { MaxDegreeOfParallelism = 4 }, _ =>
        {
            if (streak.Failed())
                Interlocked.Increment(ref firsts);
        });

        Assert.Equal(1, firsts);
        Assert.Equal(10_000, streak.Succeeded(out _));
    }
}
