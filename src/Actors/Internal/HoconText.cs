using System.Globalization;
using System.Text;
using Akka.Configuration;

namespace Akka.WriteBehind.Internal;

/// <summary>INTERNAL API: renders option values as HOCON lines; values left <c>null</c> are left out.</summary>
internal sealed class HoconText
{
    private readonly StringBuilder _text = new();

    public HoconText Add(string path, string? value)
    {
        if (value is not null)
            _text.Append(path).Append(" = ").Append(value).Append('\n');
        return this;
    }

    public HoconText Add(string path, TimeSpan? value) => Add(path, Duration(value));

    public HoconText Add(string path, int? value) => Add(path, value?.ToString(CultureInfo.InvariantCulture));

    public HoconText Add(string path, bool? value) => Add(path, value switch { null => null, true => "on", false => "off" });

    /// <summary>A duration, or <c>off</c> for <see cref="TimeSpan.Zero"/>.</summary>
    public HoconText AddDurationOrOff(string path, TimeSpan? value) => Add(path, value == TimeSpan.Zero ? "off" : Duration(value));

    public Config ToConfig() => ConfigurationFactory.ParseString(_text.ToString());

    /// <summary>A HOCON quoted string: backslashes and double quotes escaped.</summary>
    public static string Quote(string value) =>
        "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    /// <summary>Whole milliseconds, rounded up (HOCON <c>250ms</c>).</summary>
    public static string? Duration(TimeSpan? value) =>
        value is null ? null : ((long)Math.Ceiling(value.Value.TotalMilliseconds)).ToString(CultureInfo.InvariantCulture) + "ms";
}
