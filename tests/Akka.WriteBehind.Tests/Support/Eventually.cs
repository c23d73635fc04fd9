namespace Akka.WriteBehind.Tests.Support;

/// <summary>Polls a condition every 10 ms (tests that must act as soon as a state is reached, not after a coarse interval).</summary>
internal static class Eventually
{
    public static async Task TrueAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
                Assert.Fail($"not within {timeout}: {what}");
            await Task.Delay(10);
        }
    }
}
