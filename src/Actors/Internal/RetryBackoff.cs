namespace Akka.WriteBehind.Internal;

/// <summary>
/// INTERNAL API: exponential back-off with a random spread, as the settings' <c>retry</c> section describes it. Pure, so that
/// its arithmetic is tested without an actor.
/// </summary>
internal static class RetryBackoff
{
    /// <summary>The wait before attempt <paramref name="attempt"/> + 1: min × 2^(attempt − 1), capped at max, stretched by up to the random factor.</summary>
    /// <param name="attempt">Failed attempts in a row so far (1 or more).</param>
    /// <param name="min">The first wait.</param>
    /// <param name="max">The cap before the spread.</param>
    /// <param name="randomFactor">How far the spread stretches a wait (0.2: up to 20% longer).</param>
    /// <param name="random">A number in [0, 1) that chooses within the spread.</param>
    public static TimeSpan Of(int attempt, TimeSpan min, TimeSpan max, double randomFactor, double random)
    {
        var exponent = Math.Clamp(attempt - 1, 0, 30);
        var ms = Math.Min(max.TotalMilliseconds, min.TotalMilliseconds * Math.Pow(2, exponent));
        return TimeSpan.FromMilliseconds(ms * (1 + randomFactor * random));
    }
}
