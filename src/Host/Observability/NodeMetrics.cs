using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Akka.WriteBehind.Host.Observability;

/// <summary>
/// This node's view of the library's meter for <c>/stats</c> and the status page: a <see cref="MeterListener"/> takes every
/// instrument of <see cref="WriteBehindMetrics.MeterName"/>, whichever features created them (instruments that do not
/// exist are simply absent), sums counters and histograms over their tags and reads the gauges once a second
/// (<see cref="Sample"/>), keeping the last <see cref="HistoryLength"/> samples of the headline series. Refusals and failed
/// batches are also noted in <see cref="RecentErrors"/> (they are answered to callers, not logged).
/// </summary>
public sealed class NodeMetrics : IDisposable
{
    /// <summary>Samples kept for the charts (one a second).</summary>
    public const int HistoryLength = 120;

    /// <summary>Counter of accepted increments: the ingest rate.</summary>
    public const string Increments = "akka.write_behind.counters.increments";

    /// <summary>Counter of refused counter commands (tag <c>reason</c>).</summary>
    public const string Refusals = "akka.write_behind.counters.refusals";

    /// <summary>Counter of confirmed counter writes: the flush rate.</summary>
    public const string Flushes = "akka.write_behind.counters.flushes";

    /// <summary>Counter of failed counter writes.</summary>
    public const string FlushFailures = "akka.write_behind.counters.flush_failures";

    /// <summary>Counter of rows in committed store transactions.</summary>
    public const string RowsWritten = "akka.write_behind.counters.rows_written";

    /// <summary>Gauge of keys holding unconfirmed increments.</summary>
    public const string PendingKeys = "akka.write_behind.counters.pending_keys";

    /// <summary>Gauge of increments not yet confirmed stored.</summary>
    public const string PendingIncrements = "akka.write_behind.counters.pending_increments";

    /// <summary>Gauge of the age of the oldest unconfirmed increment, seconds.</summary>
    public const string OldestUnflushedAge = "akka.write_behind.counters.oldest_unflushed_age";

    /// <summary>Gauge of journal persists in flight.</summary>
    public const string JournalPersistsInFlight = "akka.write_behind.counters.journal_persists_in_flight";

    /// <summary>Counter of finished batches (tag <c>outcome</c>).</summary>
    public const string BatchesFinished = "akka.write_behind.batches.finished";

    /// <summary>Counter of operations of finished batches.</summary>
    public const string BatchOperations = "akka.write_behind.batches.operations";

    private readonly object _gate = new();
    private readonly MeterListener _listener = new();
    private readonly RecentErrors _errors;
    private readonly Dictionary<Instrument, State> _states = new();
    private readonly Queue<StatsSample> _history = new();
    private readonly long _startedTimestamp = Stopwatch.GetTimestamp();
    private IReadOnlyList<InstrumentStats> _latest = [];
    private long _lastSampleTimestamp;

    /// <summary>Starts listening to the library's meter.</summary>
    /// <param name="errors">Where refusals and failed batches are noted.</param>
    public NodeMetrics(RecentErrors errors)
    {
        _errors = errors;
        StartedAt = DateTimeOffset.UtcNow;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name != WriteBehindMetrics.MeterName)
                return;
            var state = new State(instrument);
            lock (_gate)
                _states[instrument] = state;
            listener.EnableMeasurementEvents(instrument, state);
        };
        _listener.MeasurementsCompleted = (instrument, _) =>
        {
            lock (_gate)
                _states.Remove(instrument);
        };
        // these run on the measuring threads (entities, per increment): lock-free adds, no allocation
        _listener.SetMeasurementEventCallback<long>((_, v, tags, s) => Measured(s, v, 0, tags));
        _listener.SetMeasurementEventCallback<int>((_, v, tags, s) => Measured(s, v, 0, tags));
        _listener.SetMeasurementEventCallback<double>((_, v, tags, s) => Measured(s, 0, v, tags));
        _listener.Start();
        Sample();
    }

    /// <summary>When this node's metrics started (UTC).</summary>
    public DateTimeOffset StartedAt { get; }

    /// <summary>Time since <see cref="StartedAt"/>.</summary>
    public TimeSpan Uptime => Stopwatch.GetElapsedTime(_startedTimestamp);

    /// <summary>Reads the gauges, computes the rates since the previous sample and appends a sample to the history.</summary>
    public void Sample()
    {
        lock (_gate)
        {
            var now = Stopwatch.GetTimestamp();
            var seconds = _lastSampleTimestamp == 0 ? 0 : Stopwatch.GetElapsedTime(_lastSampleTimestamp, now).TotalSeconds;
            _lastSampleTimestamp = now;
            foreach (var state in _states.Values)
                state.BeginObservation();
            _listener.RecordObservableInstruments(); // callbacks run on this thread, inside the lock
            var latest = new List<InstrumentStats>(_states.Count);
            foreach (var state in _states.Values.OrderBy(s => s.Instrument.Name, StringComparer.Ordinal))
                latest.Add(state.Snapshot(seconds));
            _latest = latest;

            _history.Enqueue(new StatsSample(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
                Find(Increments)?.Rate, Find(Flushes)?.Rate, Find(OldestUnflushedAge)?.Value, Find(PendingKeys)?.Value));
            while (_history.Count > HistoryLength)
                _history.Dequeue();
        }
    }

    /// <summary>Every instrument's value as of the last sample, by name.</summary>
    public IReadOnlyList<InstrumentStats> Instruments
    {
        get
        {
            lock (_gate)
                return _latest;
        }
    }

    /// <summary>The headline series, oldest first (at most <see cref="HistoryLength"/>).</summary>
    public IReadOnlyList<StatsSample> History
    {
        get
        {
            lock (_gate)
                return _history.ToArray();
        }
    }

    /// <summary>The headline numbers as of the last sample; null where the instrument does not exist on this node.</summary>
    public StatsSummary Summary()
    {
        lock (_gate)
        {
            return new StatsSummary(
                Find(Increments)?.Rate, Find(Increments)?.Value,
                Find(Flushes)?.Rate, Find(Flushes)?.Value,
                Find(RowsWritten)?.Value, Find(FlushFailures)?.Value, Find(Refusals)?.Value,
                Find(PendingKeys)?.Value, Find(PendingIncrements)?.Value, Find(OldestUnflushedAge)?.Value,
                Find(JournalPersistsInFlight)?.Value,
                Find(BatchesFinished)?.Rate, Find(BatchOperations)?.Rate);
        }
    }

    /// <inheritdoc />
    public void Dispose() => _listener.Dispose();

    private InstrumentStats? Find(string name) => _latest.FirstOrDefault(i => i.Name == name);

    private void Measured(object? state, long whole, double fraction, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (state is not State s)
            return;
        s.Add(whole, fraction);
        if (s.IsRefusals && whole > 0)
            _errors.Add("warning", "metrics", $"counter command refused: {Tag(tags, "reason") ?? "unknown"} (counter set {Tag(tags, "counter_set")})");
        else if (s.IsBatchesFinished && Tag(tags, "outcome") is { } outcome && outcome != "ok")
            _errors.Add("warning", "metrics", $"batch failed: {outcome} (resource type {Tag(tags, "resource_type")})");
    }

    private static string? Tag(ReadOnlySpan<KeyValuePair<string, object?>> tags, string name)
    {
        foreach (var tag in tags)
            if (tag.Key == name)
                return tag.Value?.ToString();
        return null;
    }

    /// <summary>
    /// One instrument: counters and histograms accumulate (lock-free: measurements arrive on many threads); observable
    /// instruments are reset and read inside <see cref="Sample"/>, on its thread.
    /// </summary>
    private sealed class State(Instrument instrument)
    {
        private readonly string _kind = KindOf(instrument);
        private long _whole;      // sum of the long/int measurements
        private double _fraction; // sum of the double measurements
        private long _count;      // histograms: values recorded; observable: measurements in this observation
        private double _max;      // observable gauges in seconds: the largest value over the tag sets (the oldest age)
        private double _last;     // synchronous gauges: the last value recorded
        private double? _previous;

        public Instrument Instrument { get; } = instrument;

        public bool IsRefusals { get; } = instrument.Name == NodeMetrics.Refusals;

        public bool IsBatchesFinished { get; } = instrument.Name == NodeMetrics.BatchesFinished;

        private bool UsesMax => Instrument.IsObservable && Instrument.Unit == "s";

        public void BeginObservation()
        {
            if (!Instrument.IsObservable)
                return;
            _whole = 0;
            _fraction = 0;
            _max = 0;
            _count = 0;
        }

        public void Add(long whole, double fraction)
        {
            if (Instrument.IsObservable)
            {
                // inside RecordObservableInstruments, on the sampling thread
                var value = whole + fraction;
                _max = _count == 0 ? value : Math.Max(_max, value);
                _whole += whole;
                _fraction += fraction;
                _count++;
                return;
            }

            if (_kind == "gauge")
            {
                Volatile.Write(ref _last, whole + fraction);
                return;
            }

            if (whole != 0)
                Interlocked.Add(ref _whole, whole);
            if (fraction != 0)
            {
                double seen, updated;
                do
                {
                    seen = Volatile.Read(ref _fraction);
                    updated = seen + fraction;
                } while (Interlocked.CompareExchange(ref _fraction, updated, seen) != seen);
            }

            if (_kind == "histogram")
                Interlocked.Increment(ref _count);
        }

        public InstrumentStats Snapshot(double seconds)
        {
            double value;
            if (UsesMax)
                value = _max;
            else if (_kind == "gauge" && !Instrument.IsObservable)
                value = Volatile.Read(ref _last);
            else
                value = Interlocked.Read(ref _whole) + Volatile.Read(ref _fraction);

            double? rate = null;
            if (_kind == "counter")
            {
                rate = _previous is { } before && seconds > 0 ? Math.Max(0, value - before) / seconds : 0;
                _previous = value;
            }

            return new InstrumentStats(Instrument.Name, _kind, Instrument.Unit, Instrument.Description, value, rate,
                _kind == "histogram" ? Interlocked.Read(ref _count) : null);
        }

        private static string KindOf(Instrument instrument)
        {
            var type = instrument.GetType().Name;
            if (type.StartsWith("ObservableGauge", StringComparison.Ordinal) || type.StartsWith("ObservableUpDownCounter", StringComparison.Ordinal))
                return "gauge";
            if (type.StartsWith("ObservableCounter", StringComparison.Ordinal))
                return "counter";
            if (type.StartsWith("Histogram", StringComparison.Ordinal))
                return "histogram";
            if (type.StartsWith("UpDownCounter", StringComparison.Ordinal))
                return "updowncounter";
            return type.StartsWith("Gauge", StringComparison.Ordinal) ? "gauge" : "counter";
        }
    }
}

/// <summary>Samples <see cref="NodeMetrics"/> once a second while the Host runs.</summary>
/// <param name="metrics">The node's metrics.</param>
public sealed class NodeMetricsSampler(NodeMetrics metrics) : BackgroundService
{
    /// <summary>Time between samples.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
                metrics.Sample();
        }
        catch (OperationCanceledException)
        {
            // the host is stopping
        }
    }
}
