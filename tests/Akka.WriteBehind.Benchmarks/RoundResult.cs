namespace Akka.WriteBehind.Benchmarks;

/// <summary>What one child process measured: one system, one round of one scenario.</summary>
internal sealed record RoundResult(
    string Scenario,
    string System,
    int Round,
    int Keys,
    long Sent,
    long Accepted,
    long Rejected,
    long DatabaseTotal,
    bool Verified,
    double IngestSeconds,
    double DurableSeconds,
    double IngestPerSecond,
    double DurablePerSecond,
    double CpuMicrosPerIncrement,
    long RowsWritten,
    double RowsPerIncrement,
    double RowsFloorPerIncrement,
    double PeakWorkingSetMb,
    double? OutsideLoad,
    string? Error)
{
    /// <summary>latency: the open-loop rate (increments/s).</summary>
    public double? Rate { get; init; }

    /// <summary>latency: increments whose Tell→durable time was measured (every increment sent).</summary>
    public long? LatencySamples { get; init; }

    /// <summary>latency: from the intended send time to the commit that made the increment durable, milliseconds.</summary>
    public double? LatencyP50Ms { get; init; }

    /// <inheritdoc cref="LatencyP50Ms"/>
    public double? LatencyP99Ms { get; init; }

    /// <inheritdoc cref="LatencyP50Ms"/>
    public double? LatencyP999Ms { get; init; }

    /// <inheritdoc cref="LatencyP50Ms"/>
    public double? LatencyMaxMs { get; init; }

    /// <summary>latency: p99 ÷ flush interval (issue 9's target: ≤ 1.2).</summary>
    public double? P99OverFlushInterval { get; init; }

    /// <summary>idle-keys: managed heap growth (after a full GC) per entity, from before the first increment to all durable.</summary>
    public double? HeapBytesPerEntity { get; init; }

    /// <summary>idle-keys: working-set growth per entity over the same span.</summary>
    public double? WorkingSetBytesPerEntity { get; init; }

    /// <summary>idle-keys: entities created per second (first pass: one increment to each key).</summary>
    public double? ActivationsPerSecond { get; init; }

    /// <summary>idle-keys: entities alive at the memory reading (some may have passivated already); <c>null</c> when the system cannot tell.</summary>
    public long? LiveEntitiesAtReading { get; init; }

    /// <summary>idle-keys: entities still alive after the passivation wait; <c>null</c> when the system cannot tell.</summary>
    public long? LiveEntitiesAfterIdle { get; init; }

    /// <summary>idle-keys: seconds from all durable until every entity was passivated (idle timeout included).</summary>
    public double? PassivationSeconds { get; init; }

    /// <summary>idle-keys: managed heap growth per entity once the entities are passivated.</summary>
    public double? HeapBytesPerEntityAfterPassivation { get; init; }

    /// <summary>batches: batches finished (the library's meter).</summary>
    public long? Batches { get; init; }

    /// <summary>batches: batches finished per second (operations per second is <see cref="DurablePerSecond"/>).</summary>
    public double? BatchesPerSecond { get; init; }
}
