using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Akka.WriteBehind.Batches;
using Akka.WriteBehind.Tests.Support;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Batches;

/// <summary>A type name of its own, so the process-wide meter's measurements of other specs running in parallel are told apart.</summary>
public sealed class BatchMetricsSpec(ITestOutputHelper output) : TapeSpecBase(output, typeName: "metric-tapes")
{
    [Fact]
    public async Task Should_publish_a_metric_record_per_batch_as_a_stream_and_as_meter_instruments()
    {
        var measurements = new ConcurrentQueue<(string Instrument, double Value, string? Outcome)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == WriteBehindBatches.MeterName)
                l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
        listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument, value, tags));
        listener.Start();

        await Task.WhenAll(RunAsync("m", new Append("a")), RunAsync("m", new Append("b"))).WaitAsync(AwaitTimeout);
        Store.FailNextSaves(1);
        await FailureOf(RunAsync("m", new Append("c")));

        var ok = await NextMetricAsync("m");
        Assert.Equal(TypeName, ok.TypeName);
        Assert.Equal(2, ok.OperationCount);
        Assert.Null(ok.Error);
        Assert.True(ok.SaveDuration > TimeSpan.Zero && ok.TotalDuration >= ok.SaveDuration);
        Assert.True(ok.BatchStart <= DateTime.UtcNow && ok.BatchStart.Kind == DateTimeKind.Utc);
        var failed = await NextMetricAsync("m");
        Assert.Equal(1, failed.OperationCount);
        Assert.Equal(ErrorCode.StoreFailure, failed.Error);
        Assert.Contains("injected save failure", failed.ErrorMessage);

        // the meter recorded the same two batches (recorded before the stream saw them)
        Assert.Equal(1, measurements.Count(m => m is { Instrument: "akka.write_behind.batches.finished", Outcome: "ok" }));
        Assert.Equal(1, measurements.Count(m => m is { Instrument: "akka.write_behind.batches.finished", Outcome: "StoreFailure" }));
        Assert.Equal(3, measurements.Where(m => m.Instrument == "akka.write_behind.batches.operations").Sum(m => m.Value));
        Assert.Equal(2, measurements.Count(m => m.Instrument == "akka.write_behind.batches.duration"));
        Assert.Equal(2, measurements.Count(m => m.Instrument == "akka.write_behind.batches.save_duration"));

        void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            string? type = null, outcome = null;
            foreach (var (name, tag) in tags)
            {
                if (name == "resource_type")
                    type = tag as string;
                else if (name == "outcome")
                    outcome = tag as string;
            }

            if (type == TypeName)
                measurements.Enqueue((instrument.Name, value, outcome));
        }
    }
}
