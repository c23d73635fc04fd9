using Akka.Configuration;

namespace Akka.WriteBehind.Internal;

/// <summary>
/// INTERNAL API
/// <para>Reads one settings section and throws <see cref="ConfigurationException"/> naming the full key of anything missing or out of range.</para>
/// </summary>
/// <param name="config">The section.</param>
/// <param name="pathOf">The full HOCON path of a key of the section, for messages.</param>
internal sealed class ConfigReader(Config config, Func<string, string> pathOf)
{
    public string PathOf(string key) => pathOf(key);

    public void Require(bool condition, string key, string what)
    {
        if (!condition)
            throw new ConfigurationException($"{PathOf(key)} {what}.");
    }

    public TimeSpan PositiveDuration(string key) => Duration(key, zeroAllowed: false);

    /// <summary>A duration of zero or more.</summary>
    public TimeSpan NonNegativeDuration(string key) => Duration(key, zeroAllowed: true);

    private TimeSpan Duration(string key, bool zeroAllowed)
    {
        Present(key);
        var value = Parse(key, () => config.GetTimeSpan(key));
        if (zeroAllowed)
            Require(value >= TimeSpan.Zero, key, "must be zero or a positive duration");
        else
            Require(value > TimeSpan.Zero, key, "must be a positive duration");
        return value;
    }

    /// <summary>A positive duration, or <c>null</c> for <c>off</c>.</summary>
    public TimeSpan? DurationOrOff(string key) => IsWord(key, "off") ? null : PositiveDuration(key);

    /// <summary>Whether the key holds the word <paramref name="word"/> (case-insensitive).</summary>
    public bool IsWord(string key, string word)
    {
        Present(key);
        return string.Equals(config.GetString(key), word, StringComparison.OrdinalIgnoreCase);
    }

    public int PositiveInt(string key)
    {
        Present(key);
        var value = Parse(key, () => config.GetInt(key));
        Require(value > 0, key, "must be > 0");
        return value;
    }

    /// <summary>A number in [0, 1].</summary>
    public double Fraction(string key)
    {
        Present(key);
        var value = Parse(key, () => config.GetDouble(key));
        Require(value is >= 0 and <= 1, key, "must be in [0, 1]");
        return value;
    }

    public bool Bool(string key)
    {
        Present(key);
        return Parse(key, () => config.GetBoolean(key));
    }

    private void Present(string key)
    {
        if (!config.HasPath(key))
            throw new ConfigurationException($"{PathOf(key)} is missing.");
    }

    private T Parse<T>(string key, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (Exception e) when (e is FormatException or ConfigurationException or OverflowException or InvalidCastException or NotSupportedException)
        {
            throw new ConfigurationException($"{PathOf(key)} = \"{config.GetString(key)}\" is not valid here ({e.Message}).", e);
        }
    }
}
