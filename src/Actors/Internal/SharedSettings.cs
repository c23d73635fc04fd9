using Akka.Configuration;

namespace Akka.WriteBehind.Internal;

/// <summary>
/// INTERNAL API
/// <para>Reads the sections every feature shares (<c>retry</c>, <c>store-writer</c>) with the same keys and checks, so that a
/// bad value gets the same message in any feature; and spreads a retry wait as every feature does.</para>
/// </summary>
internal static class SharedSettings
{
    /// <summary>Reads and validates the <c>retry</c> section of the feature section <paramref name="feature"/>.</summary>
    /// <param name="feature">The feature's section (not the root).</param>
    /// <param name="featurePath">The feature section's path, for messages.</param>
    public static RetrySettings Retry(Config feature, string featurePath)
    {
        var read = new ConfigReader(feature, key => $"{featurePath}.{key}");
        var settings = new RetrySettings(
            read.PositiveDuration(RetrySettings.Keys.MinBackoff),
            read.PositiveDuration(RetrySettings.Keys.MaxBackoff),
            read.Fraction(RetrySettings.Keys.RandomFactor));
        read.Require(settings.MaxBackoff >= settings.MinBackoff, RetrySettings.Keys.MaxBackoff, "must be >= " + RetrySettings.Keys.MinBackoff);
        return settings;
    }

    /// <summary>Reads and validates the <c>store-writer</c> section of the feature section <paramref name="feature"/>.</summary>
    /// <param name="feature">The feature's section (not the root).</param>
    /// <param name="featurePath">The feature section's path, for messages.</param>
    public static StoreWriterSettings StoreWriter(Config feature, string featurePath)
    {
        var read = new ConfigReader(feature, key => $"{featurePath}.{key}");
        return new StoreWriterSettings(
            read.PositiveInt(StoreWriterSettings.Keys.BatchSize),
            read.PositiveDuration(StoreWriterSettings.Keys.BatchDelay),
            read.PositiveInt(StoreWriterSettings.Keys.Parallelism),
            read.PositiveInt(StoreWriterSettings.Keys.BufferSize),
            read.PositiveDuration(StoreWriterSettings.Keys.WriteTimeout));
    }

    /// <summary>The wait after the <paramref name="attempt"/>-th failure in a row (1 for the first), spread at random.</summary>
    public static TimeSpan After(this RetrySettings retry, int attempt) =>
        RetryBackoff.Of(attempt, retry.MinBackoff, retry.MaxBackoff, retry.RandomFactor, Random.Shared.NextDouble());
}
