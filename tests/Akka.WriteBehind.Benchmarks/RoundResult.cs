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
    string? Error);
