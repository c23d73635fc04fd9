using System.Diagnostics.Metrics;

namespace Akka.WriteBehind.Tests.Support;

/// <summary>
/// The latest value one observable instrument of the counters' metrics reports for one counter set (its
/// <c>counter_set</c> tag), e.g. <c>akka.write_behind.counters.evictions</c>; -1 before it reported any. With
/// <c>sum</c>, the total a counter instrument (e.g. <c>akka.write_behind.counters.increments</c>) has added for the set
/// since this listener started, 0 before any.
/// </summary>
internal sealed class CounterGauge : IDisposable
{
    private readonly MeterListener _listener = new();
    private long _value = -1;

    public CounterGauge(string instrument, string counterSet, bool sum = false)
    {
        if (sum)
            _value = 0;
        _listener.InstrumentPublished = (published, listener) =>
        {
            if (published.Name == instrument)
                listener.EnableMeasurementEvents(published);
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
                if (tag is { Key: "counter_set" } && Equals(tag.Value, counterSet))
                    if (sum)
                        Interlocked.Add(ref _value, value);
                    else
                        Interlocked.Exchange(ref _value, value);
        });
        _listener.Start();
    }

    /// <summary>Asks the instrument for its value now.</summary>
    public long Read()
    {
        _listener.RecordObservableInstruments();
        return Interlocked.Read(ref _value);
    }

    public void Dispose() => _listener.Dispose();
}
