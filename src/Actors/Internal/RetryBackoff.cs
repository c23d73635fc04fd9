namespace Akka.WriteBehind.Internal;

/// <summary>
/// INTERNAL API
/// <para>Exponential back-off between retries: <see cref="Min"/> after the first failure, doubling, capped at <see cref="Max"/>.
/// Pure, so that its arithmetic is tested without an actor.</para>
/// </summary>
internal readonly record struct RetryBackoff(TimeSpan Min, TimeSpan Max)
{
    /// <summary>The wait after the <paramref name="failures"/>-th failure in a row (1 for the first).</summary>
    public TimeSpan After(int failures)
    {
        // the exponent is capped so that the double stays finite for any failure count
        var ms = Min.TotalMilliseconds * Math.Pow(2, Math.Clamp(failures - 1, 0, 20));
        return TimeSpan.FromMilliseconds(Math.Min(ms, Max.TotalMilliseconds));
    }

    /// <summary>
    /// The wait after the <paramref name="attempt"/>-th failure in a row, stretched by up to <paramref name="randomFactor"/>
    /// (the settings' <c>retry.random-factor</c>) so that many retrying entities do not come back at the same instant.
    /// </summary>
    /// <param name="attempt">Failed attempts in a row so far (1 or more).</param>
    /// <param name="min">The first wait.</param>
    /// <param name="max">The cap before the spread.</param>
    /// <param name="randomFactor">How far the spread stretches a wait (0.2: up to 20% longer).</param>
    /// <param name="random">A number in [0, 1) that chooses within the spread.</param>
    public static TimeSpan Of(int attempt, TimeSpan min, TimeSpan max, double randomFactor, double random) =>
        new RetryBackoff(min, max).After(attempt) * (1 + randomFactor * random);
}
