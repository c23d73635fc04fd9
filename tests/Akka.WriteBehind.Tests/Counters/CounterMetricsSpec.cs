using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Akka.WriteBehind.Counters;
using Akka.WriteBehind.Tests.Support;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Counters;

public sealed class CounterMetricsSpec : CounterSpecBase, IDisposable
{
    private const string CounterSet = "metrics-spec-counters";
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<(string Instrument, double Value, Dictionary<string, object?> Tags)> _measurements = new();

    public CounterMetricsSpec(ITestOutputHelper output) : base(output, $"""
        akka.write-behind.counters.type-name = {CounterSet}
        akka.write-behind.counters.flush-interval = 1h
        """)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "Akka.WriteBehind" && instrument.Name.StartsWith("akka.write_behind.counters.", StringComparison.Ordinal))
                listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Record(i, v, tags));
        _listener.Start();
    }

    [Fact]
    public async Task Should_report_increments_refusals_flushes_and_how_far_behind_the_store_is()
    {
        for (var i = 0; i < 3; i++)
            await AskAsync(new Increment("m-a", 1));
        await AskAsync(new Increment("m-b", long.MaxValue));
        await AskAsync(new Increment("m-b", 1)); // overflow
        await AskAsync(new Increment("", 1));    // invalid key

        Assert.Equal(4, Sum("increments"));
        Assert.Equal(1, Sum("refusals", ("reason", "Overflow")));
        Assert.Equal(1, Sum("refusals", ("reason", "InvalidKey")));
        await AwaitAssertAsync(() =>
        {
            Assert.Equal(2, Gauge("pending_keys"));
            Assert.Equal(4, Gauge("pending_increments"));
            Assert.True(Gauge("oldest_unflushed_age") > 0, "the oldest unflushed increment has an age");
        }, AwaitTimeout);

        await AskAsync(new FlushCounter("m-a"));
        await AskAsync(new FlushCounter("m-b"));

        Assert.Equal(2, Sum("flushes"));
        Assert.Equal(2, Sum("rows_written"));
        Assert.True(Sum("batches", ("outcome", "ok")) >= 1);
        Assert.Contains(_measurements, m => m.Instrument.EndsWith(".batch_duration", StringComparison.Ordinal) && Tag(m.Tags, "counter_set") == CounterSet);
        Assert.Equal(0, Gauge("pending_keys"));
        Assert.Equal(0, Gauge("pending_increments"));
        var latencies = _measurements.Where(m => m.Instrument == "akka.write_behind.counters.flush_duration" && Tag(m.Tags, "counter_set") == CounterSet).ToList();
        Assert.Equal(2, latencies.Count); // one per confirmed write
        Assert.All(latencies, l => Assert.True(l.Value > 0 && l.Value < 30, $"flush latency {l.Value}s"));
        Assert.Equal(0, Sum("flush_retries"));
        Assert.Equal(0, Gauge("oldest_unflushed_age"));
    }

    public new void Dispose()
    {
        _listener.Dispose();
        base.Dispose();
    }

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var map = new Dictionary<string, object?>();
        foreach (var tag in tags)
            map[tag.Key] = tag.Value;
        _measurements.Enqueue((instrument.Name, value, map));
    }

    private static string? Tag(Dictionary<string, object?> tags, string name) => tags.GetValueOrDefault(name)?.ToString();

    /// <summary>The sum of a counter's measurements of this spec's counter set (others run in parallel).</summary>
    private double Sum(string instrument, params (string Key, string Value)[] tags) =>
        _measurements
            .Where(m => m.Instrument == "akka.write_behind.counters." + instrument && Tag(m.Tags, "counter_set") == CounterSet)
            .Where(m => tags.All(t => Tag(m.Tags, t.Key) == t.Value))
            .Sum(m => m.Value);

    /// <summary>A gauge's current value for this spec's counter set.</summary>
    private double Gauge(string instrument)
    {
        var name = "akka.write_behind.counters." + instrument;
        var before = _measurements.Count;
        _listener.RecordObservableInstruments();
        return _measurements.Skip(before)
            .Last(m => m.Instrument == name && Tag(m.Tags, "counter_set") == CounterSet).Value;
    }
}

public sealed class CounterFailureMetricsSpec : CounterSpecBase, IDisposable
{
    private const string CounterSet = "failure-metrics-spec-counters";
    private readonly FailingStore _failing;
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<(string Instrument, double Value, string? CounterSet)> _measurements = new();

    public CounterFailureMetricsSpec(ITestOutputHelper output) : base(output, $"""
        akka.write-behind.counters.type-name = {CounterSet}
        akka.write-behind.counters.flush-interval = 1h
        """)
    {
        _failing = new FailingStore(Target, failures: 2);
        Store = _failing;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == WriteBehindMetrics.MeterName)
                listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Record(i, v, tags));
        _listener.Start();
    }

    [Fact]
    public async Task Should_report_failed_writes_their_retries_and_the_latency_of_the_write_that_succeeded()
    {
        await AskAsync(new Increment("fm-a", 5));
        await AskAsync(new Increment("fm-a", 6));
        Assert.Equal(ErrorCode.StoreFailure, Assert.IsType<CounterRejected>(await AskAsync(new FlushCounter("fm-a"))).Code);

        // the entity retries by itself until the store takes the write
        await AwaitAssertAsync(async () => Assert.Equal(11, await StoredValueAsync("fm-a")), AwaitTimeout);
        await AwaitAssertAsync(() => Assert.Equal(1, Sum("akka.write_behind.counters.flushes")), AwaitTimeout);

        Assert.Equal(2, _failing.Failed);
        Assert.Equal(2, Sum("akka.write_behind.counters.flush_failures"));
        Assert.Equal(2, Sum("akka.write_behind.counters.flush_retries"));
        var latency = Assert.Single(_measurements, m => m.Instrument == "akka.write_behind.counters.flush_duration" && m.CounterSet == CounterSet);
        Assert.True(latency.Value > 0, "the write that succeeded has a latency");
        Assert.True(Sum("akka.write_behind.counters.batches", "failed") >= 2, "the failed store transactions are counted");
    }

    public new void Dispose()
    {
        _listener.Dispose();
        base.Dispose();
    }

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        string? counterSet = null;
        string? outcome = null;
        foreach (var tag in tags)
        {
            if (tag.Key == "counter_set")
                counterSet = tag.Value?.ToString();
            else if (tag.Key == "outcome")
                outcome = tag.Value?.ToString();
        }

        _measurements.Enqueue((outcome is null ? instrument.Name : instrument.Name + "|" + outcome, value, counterSet));
    }

    private double Sum(string instrument, string? outcome = null) =>
        _measurements.Where(m => m.Instrument == (outcome is null ? instrument : instrument + "|" + outcome) && m.CounterSet == CounterSet)
            .Sum(m => m.Value);
}
