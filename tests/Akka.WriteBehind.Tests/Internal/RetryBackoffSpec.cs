using Akka.WriteBehind.Internal;

namespace Akka.WriteBehind.Tests.Internal;

public sealed class RetryBackoffSpec
{
    private static readonly RetryBackoff Backoff = new(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(1));

    [Fact]
    public void Should_start_at_the_minimum_and_double_after_each_failure()
    {
        Assert.Equal(TimeSpan.FromMilliseconds(100), Backoff.After(1));
        Assert.Equal(TimeSpan.FromMilliseconds(200), Backoff.After(2));
        Assert.Equal(TimeSpan.FromMilliseconds(800), Backoff.After(4));
    }

    [Fact]
    public void Should_stay_at_the_maximum_for_any_number_of_failures()
    {
        Assert.Equal(TimeSpan.FromSeconds(1), Backoff.After(5));
        Assert.Equal(TimeSpan.FromSeconds(1), Backoff.After(int.MaxValue));
        Assert.Equal(TimeSpan.FromMilliseconds(100), Backoff.After(0));
    }
}
