namespace Akka.WriteBehind;

/// <summary>
/// The back-off of a feature's retries, read from its <c>retry</c> section (the same keys in every feature): a failed load
/// or write waits <see cref="MinBackoff"/>, doubling per failure in a row up to <see cref="MaxBackoff"/>, each wait stretched
/// by up to <see cref="RandomFactor"/> so that many retrying entities do not come back at the same instant.
/// </summary>
/// <param name="MinBackoff">First wait (<c>retry.min-backoff</c>). <b>Default</b>: 100ms.</param>
/// <param name="MaxBackoff">Longest wait before the spread (<c>retry.max-backoff</c>). <b>Default</b>: 2s (counters), 10s (refresh).</param>
/// <param name="RandomFactor">Random extra fraction of each wait, in [0, 1] (<c>retry.random-factor</c>). <b>Default</b>: 0.2.</param>
public sealed record RetrySettings(TimeSpan MinBackoff, TimeSpan MaxBackoff, double RandomFactor)
{
    /// <summary>The name of the section inside a feature's settings.</summary>
    public const string Section = "retry";

    /// <summary>HOCON keys of the section, relative to the feature's section.</summary>
    internal static class Keys
    {
        public const string MinBackoff = Section + ".min-backoff";
        public const string MaxBackoff = Section + ".max-backoff";
        public const string RandomFactor = Section + ".random-factor";
    }
}
