namespace Akka.WriteBehind.Internal;

/// <summary>
/// INTERNAL API
/// <para>Exponential back-off between retries: <see cref="Min"/> after the first failure, doubling, capped at <see cref="Max"/>.</para>
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
}
