using Akka.WriteBehind.Internal;

namespace Akka.WriteBehind;

/// <summary>
/// The library's metrics: every instrument is on one <see cref="System.Diagnostics.Metrics.Meter"/> named
/// <see cref="MeterName"/> (counters: <see cref="Counters.CounterMetrics"/>; batches: <c>akka.write_behind.batches.*</c>).
/// Subscribe to the meter by name to export all of them, e.g. OpenTelemetry <c>AddMeter(WriteBehindMetrics.MeterName)</c>.
/// </summary>
public static class WriteBehindMetrics
{
    /// <summary>The meter's name: <c>Akka.WriteBehind</c>.</summary>
    public const string MeterName = WriteBehindMeter.Name;

    /// <summary>The prefix of every instrument's name: <c>akka.write_behind.</c>.</summary>
    public const string InstrumentPrefix = "akka.write_behind.";
}
