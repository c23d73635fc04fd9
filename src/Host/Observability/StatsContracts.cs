namespace Akka.WriteBehind.Host.Observability;

/// <summary><c>200</c> answer to <c>GET /stats</c>: what the status page shows.</summary>
/// <param name="Node">This node.</param>
/// <param name="Members">The cluster's members as this node sees them.</param>
/// <param name="Summary">The headline numbers; a field is null when its instrument does not exist.</param>
/// <param name="Instruments">Every instrument of the <c>Akka.WriteBehind</c> meter, by name.</param>
/// <param name="History">The headline series, one sample a second, oldest first (at most 120).</param>
/// <param name="RecentErrors">The last warnings and errors, newest first (at most 50).</param>
/// <param name="ErrorsTotal">Warnings and errors since the node started.</param>
public sealed record StatsResponse(
    NodeInfo Node,
    IReadOnlyList<ClusterMemberInfo> Members,
    StatsSummary Summary,
    IReadOnlyList<InstrumentStats> Instruments,
    IReadOnlyList<StatsSample> History,
    IReadOnlyList<RecentError> RecentErrors,
    long ErrorsTotal);

/// <summary>This node in <see cref="StatsResponse"/>.</summary>
/// <param name="Address">Akka address.</param>
/// <param name="Status">Its cluster member's status in lower case (<c>up</c>, <c>joining</c>, ...), or <c>terminated</c>.</param>
/// <param name="UptimeSeconds">Seconds since the node started.</param>
/// <param name="StartedAt">When it started (UTC).</param>
/// <param name="Store">The counter store, without credentials (<c>sqlite:&lt;file&gt;</c> or <c>postgres:&lt;host&gt;:&lt;port&gt;/&lt;db&gt;</c>).</param>
/// <param name="Now">The node's clock when answering (UTC).</param>
public sealed record NodeInfo(string Address, string Status, double UptimeSeconds, DateTimeOffset StartedAt, string Store, DateTimeOffset Now);

/// <summary>A cluster member in <see cref="StatsResponse"/>.</summary>
/// <param name="Address">Akka address.</param>
/// <param name="Status">Member status in lower case.</param>
/// <param name="Reachable">False when this node's failure detector marks it unreachable.</param>
/// <param name="Roles">Its roles.</param>
/// <param name="Self">True for this node.</param>
public sealed record ClusterMemberInfo(string Address, string Status, bool Reachable, IReadOnlyList<string> Roles, bool Self);

/// <summary>Headline numbers of <see cref="StatsResponse"/>; rates are per second over the last sample interval.</summary>
/// <param name="IngestRate">Increments accepted per second.</param>
/// <param name="IngestTotal">Increments accepted since start.</param>
/// <param name="FlushRate">Counter writes confirmed per second.</param>
/// <param name="FlushTotal">Counter writes confirmed since start.</param>
/// <param name="RowsWritten">Rows in committed store transactions since start.</param>
/// <param name="FlushFailures">Failed counter writes since start.</param>
/// <param name="Refusals">Refused counter commands since start.</param>
/// <param name="PendingKeys">Keys holding increments not yet stored.</param>
/// <param name="PendingIncrements">Increments not yet stored.</param>
/// <param name="OldestUnflushedAgeSeconds">Age of the oldest increment not yet stored, seconds (0: none).</param>
/// <param name="JournalPersistsInFlight">Journal writes in flight.</param>
/// <param name="BatchRate">Batches finished per second.</param>
/// <param name="BatchOperationsRate">Batch operations answered per second.</param>
public sealed record StatsSummary(
    double? IngestRate,
    double? IngestTotal,
    double? FlushRate,
    double? FlushTotal,
    double? RowsWritten,
    double? FlushFailures,
    double? Refusals,
    double? PendingKeys,
    double? PendingIncrements,
    double? OldestUnflushedAgeSeconds,
    double? JournalPersistsInFlight,
    double? BatchRate,
    double? BatchOperationsRate);

/// <summary>One instrument in <see cref="StatsResponse"/>, summed over its tags.</summary>
/// <param name="Name">Instrument name.</param>
/// <param name="Kind"><c>counter</c>, <c>updowncounter</c>, <c>gauge</c> or <c>histogram</c>.</param>
/// <param name="Unit">Unit (<c>s</c>, <c>{increment}</c>, ...).</param>
/// <param name="Description">What it measures.</param>
/// <param name="Value">Counters: total since start; gauges: current value (seconds: the largest over tags, else the sum);
/// histograms: the sum of the recorded values.</param>
/// <param name="Rate">Counters: per second over the last sample interval; null otherwise.</param>
/// <param name="Count">Histograms: how many values were recorded; null otherwise.</param>
public sealed record InstrumentStats(string Name, string Kind, string? Unit, string? Description, double Value, double? Rate, long? Count);

/// <summary>One sample of the charts' series.</summary>
/// <param name="T">Unix time, milliseconds.</param>
/// <param name="IngestRate">Increments accepted per second.</param>
/// <param name="FlushRate">Counter writes confirmed per second.</param>
/// <param name="OldestUnflushedAgeSeconds">Age of the oldest unstored increment, seconds.</param>
/// <param name="PendingKeys">Keys holding unstored increments.</param>
public sealed record StatsSample(long T, double? IngestRate, double? FlushRate, double? OldestUnflushedAgeSeconds, double? PendingKeys);

/// <summary><c>200</c> answer to <c>GET /ready</c> (otherwise 503 with the error body of <c>ErrorMapping</c>).</summary>
/// <param name="Status">Always <c>ready</c>.</param>
/// <param name="Address">This node's Akka address.</param>
/// <param name="Store">The counter store, without credentials.</param>
/// <param name="StoreLatencyMs">How long the store's probe took, milliseconds.</param>
public sealed record ReadyResponse(string Status, string Address, string Store, double StoreLatencyMs);
