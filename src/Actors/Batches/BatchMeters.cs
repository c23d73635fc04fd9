using System.Diagnostics;
using System.Diagnostics.Metrics;
using Akka.WriteBehind.Internal;

namespace Akka.WriteBehind.Batches;

/// <summary>
/// INTERNAL API
/// <para>
/// The batch instruments on the library's meter (<see cref="WriteBehindMeter"/>): every <see cref="BatchMetric"/> is recorded
/// as <c>akka.write_behind.batches.finished</c> and <c>.operations</c> (counts) and the histograms <c>.duration</c>,
/// <c>.load_duration</c> and <c>.save_duration</c> (seconds), tagged <c>resource_type</c> (the type's name) and <c>outcome</c>
/// (<c>ok</c> or the error code). Keys are not tags: there can be millions.
/// </para>
/// </summary>
internal static class BatchMeters
{
    private const string Prefix = "akka.write_behind.batches.";

    private static readonly Counter<long> Finished = WriteBehindMeter.Meter.CreateCounter<long>(
        Prefix + "finished", "{batch}", "Batches finished, by resource type and outcome.");

    private static readonly Counter<long> Operations = WriteBehindMeter.Meter.CreateCounter<long>(
        Prefix + "operations", "{operation}", "Operations answered by finished batches.");

    private static readonly Histogram<double> Total = WriteBehindMeter.Meter.CreateHistogram<double>(
        Prefix + "duration", "s", "Time from a batch's opening to the answers to its operations.");

    private static readonly Histogram<double> Load = WriteBehindMeter.Meter.CreateHistogram<double>(
        Prefix + "load_duration", "s", "Time spent loading the resource of a batch (batches that loaded).");

    private static readonly Histogram<double> Save = WriteBehindMeter.Meter.CreateHistogram<double>(
        Prefix + "save_duration", "s", "Time spent saving the resource of a batch (batches that saved).");

    /// <summary>Records one finished batch.</summary>
    public static void Record(string typeName, int operationCount, TimeSpan total, TimeSpan load, TimeSpan save, ErrorCode? error)
    {
        var tags = new TagList
        {
            { "resource_type", typeName },
            { "outcome", error is { } code ? code.ToString() : "ok" },
        };
        Finished.Add(1, tags);
        Operations.Add(operationCount, tags);
        Total.Record(total.TotalSeconds, tags);
        if (load > TimeSpan.Zero)
            Load.Record(load.TotalSeconds, tags);
        if (save > TimeSpan.Zero)
            Save.Record(save.TotalSeconds, tags);
    }
}

/// <summary>
/// INTERNAL API: whether anyone reads a resource type's <see cref="BatchMetric"/> records on this node. The entities make and
/// publish a record per batch only once a <see cref="BatchProcessor{TResource}.Metrics"/> stream was materialized: the meter
/// needs no record, and a record nobody reads was an allocation and an event-stream lookup per batch.
/// </summary>
internal sealed class BatchMetricsTap
{
    private int _streams;

    /// <summary>A metrics stream was materialized (streams are not counted down: an ended one costs only the publication).</summary>
    public void Opened() => Interlocked.Increment(ref _streams);

    public bool Wanted => Volatile.Read(ref _streams) > 0;
}
