using System.Diagnostics.Metrics;

namespace Akka.WriteBehind.Tests.Support;

/// <summary>
/// The latest value one observable instrument of the counters' metrics reports for one counter set (its
/// <c>counter_set</c> tag), e.g. <c>akka.write_behind.counters.evictions</c>; -1 before it reported any.
/// </summary>
internal sealed class CounterGauge : IDisposable
{
    private readonly MeterListener _listener = new();
    private long _value = -1;

    public CounterGauge(string instrument, string counterSet)
    {
        _listener.InstrumentPublished = (published, listener) =>
        {
            if (published.Name == instrument)
                listener.EnableMeasurementEvents(published);
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
                if (tag is { Key: "counter_set" } && Equals(tag.Value, counterSet))
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
