using System.Diagnostics;
using System.Diagnostics.Metrics;
using Akka.WriteBehind.Batches;

namespace Akka.WriteBehind.Internal;

/// <summary>
/// INTERNAL API
/// <para>
/// The .NET <see cref="Meter"/> of batches (<see cref="MeterName"/>): every <see cref="BatchMetric"/> is recorded as
/// <c>writebehind.batches</c> (count), <c>writebehind.batch.operations</c> (count) and the histograms
/// <c>writebehind.batch.duration</c>, <c>writebehind.batch.load.duration</c>, <c>writebehind.batch.save.duration</c> (seconds),
/// tagged with <c>type</c> (the resource type's name) and <c>outcome</c> (<c>ok</c> or the error code). Keys are not tags:
/// there can be millions.
/// </para>
/// </summary>
internal static class BatchMeters
{
    public const string MeterName = "Akka.WriteBehind.Batches";

    private static readonly Meter Meter = new(MeterName, typeof(BatchMeters).Assembly.GetName().Version?.ToString());

    private static readonly Counter<long> Batches = Meter.CreateCounter<long>(
        "writebehind.batches", "{batch}", "Batches finished, by resource type and outcome.");

    private static readonly Counter<long> Operations = Meter.CreateCounter<long>(
        "writebehind.batch.operations", "{operation}", "Operations answered by finished batches.");

    private static readonly Histogram<double> Total = Meter.CreateHistogram<double>(
        "writebehind.batch.duration", "s", "Time from a batch's opening to the answers to its operations.");

    private static readonly Histogram<double> Load = Meter.CreateHistogram<double>(
        "writebehind.batch.load.duration", "s", "Time spent loading the resource of a batch (batches that loaded).");

    private static readonly Histogram<double> Save = Meter.CreateHistogram<double>(
        "writebehind.batch.save.duration", "s", "Time spent saving the resource of a batch (batches that saved).");

    public static void Record(BatchMetric metric)
    {
        var tags = new TagList
        {
            { "type", metric.TypeName },
            { "outcome", metric.Error is { } error ? error.ToString() : "ok" },
        };
        Batches.Add(1, tags);
        Operations.Add(metric.OperationCount, tags);
        Total.Record(metric.TotalDuration.TotalSeconds, tags);
        if (metric.LoadDuration > TimeSpan.Zero)
            Load.Record(metric.LoadDuration.TotalSeconds, tags);
        if (metric.SaveDuration > TimeSpan.Zero)
            Save.Record(metric.SaveDuration.TotalSeconds, tags);
    }
}
