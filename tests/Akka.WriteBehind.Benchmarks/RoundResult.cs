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
    /// <summary>latency, batches with <c>--rate</c>: the open-loop rate (increments/s).</summary>
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

    /// <summary>latency: p99 ÷ flush interval (the target: ≤ 1.2).</summary>
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

    /// <summary>batches: operations waiting for their answers at most.</summary>
    public int? InFlight { get; init; }

    /// <summary>batches: operations answered with a typed failure, per error code with one message each.</summary>
    public string? Failures { get; init; }

    /// <summary>batches: the p99 of the library's <c>save_duration</c> histogram over the round, milliseconds (the "one save" of the latency target).</summary>
    public double? SaveP99Ms { get; init; }

    /// <summary>Bytes the round's process allocated per increment (operation), load generator included.</summary>
    public double? AllocatedBytesPerIncrement { get; init; }

    /// <summary>The garbage collector the round's process ran: <c>server</c> or <c>workstation</c> (<see cref="Runner.WorkstationGcSystems"/>).</summary>
    public string? Gc { get; init; }

    /// <summary>refresh: the configured tps.</summary>
    public int? RefreshTps { get; init; }

    /// <summary>refresh: syncs during the window, counted by the syncer.</summary>
    public long? Syncs { get; init; }

    /// <summary>refresh: syncs per second during the window.</summary>
    public double? SyncsPerSecond { get; init; }

    /// <summary>refresh: syncs per second ÷ configured tps (the headline: how close the rate limit runs to its budget).</summary>
    public double? TpsRatio { get; init; }

    /// <summary>refresh: cycles completed during the window (the library's cycle_duration histogram).</summary>
    public long? CyclesCompleted { get; init; }

    /// <summary>refresh: cycles skipped during the window because one was still running (expected: resync-period is short).</summary>
    public long? CyclesSkipped { get; init; }

    /// <summary>refresh: mean duration of the cycles completed in the window, seconds (items ÷ tps at best).</summary>
    public double? MeanCycleSeconds { get; init; }

    /// <summary>refresh: fewest syncs of one item during the window.</summary>
    public long? SyncsPerItemMin { get; init; }

    /// <summary>refresh: most syncs of one item during the window.</summary>
    public long? SyncsPerItemMax { get; init; }

    /// <summary>refresh: syncs whose input was not the state the syncer had returned last for that item.</summary>
    public long? StaleSyncInputs { get; init; }

    /// <summary>refresh: store writes (rows) per second during the window.</summary>
    public double? StoreWritesPerSecond { get; init; }

    /// <summary>refresh: seconds from the syncer's last change until the store held every item's last synced state.</summary>
    public double? SettleSeconds { get; init; }

    /// <summary>recovery: undeleted journal events of the keys when the fresh node starts.</summary>
    public long? EventsReplayed { get; init; }

    /// <summary>recovery: the counters table's total before the fresh node starts (0: nothing was flushed before the crash).</summary>
    public long? StoredBeforeRecovery { get; init; }

    /// <summary>recovery: seconds from the fresh node's counter set starting until every key's total is in the counters table.</summary>
    public double? RecoverySeconds { get; init; }

    /// <summary>recovery: keys ÷ <see cref="RecoverySeconds"/>.</summary>
    public double? RecoveredKeysPerSecond { get; init; }

    /// <summary>recovery (with a caller): keys ÷ time until GetCounter of every key answered (activation and replay included).</summary>
    public double? AnsweredKeysPerSecond { get; init; }

    /// <summary>uniform, zipf-*, batches: warm-up increments (operations) on other keys, accepted and durable before the clock; <c>null</c> = none.</summary>
    public long? WarmUpIncrements { get; init; }

    /// <summary>uniform, zipf-*, batches: seconds the warm-up took (sending, the durable wait and the tier-up settling).</summary>
    public double? WarmUpSeconds { get; init; }

    /// <summary>Methods the runtime compiled (first time or a higher tier) between the clock's start and all durable.</summary>
    public long? JitMethodsInRound { get; init; }

    /// <summary>Time the runtime spent compiling over the same span, milliseconds (all threads).</summary>
    public double? JitMillisecondsInRound { get; init; }

    /// <summary>http: requests, non-2xx answers, client CPU, round-trip times (<see cref="Http.HttpRound"/>).</summary>
    public Http.HttpFigures? Http { get; init; }
}
