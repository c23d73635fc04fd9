using System.Diagnostics.Metrics;

namespace Akka.WriteBehind.Internal;

/// <summary>
/// INTERNAL API
/// <para>The library's one .NET <see cref="Meter"/>, named <see cref="Name"/>; every feature creates its instruments on it.</para>
/// </summary>
internal static class WriteBehindMeter
{
    /// <summary>The meter's name, to subscribe to (OpenTelemetry <c>AddMeter("Akka.WriteBehind")</c>, a MeterListener, dotnet-counters).</summary>
    public const string Name = "Akka.WriteBehind";

    public static readonly Meter Meter = new(Name, typeof(WriteBehindMeter).Assembly.GetName().Version?.ToString());
}
