using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Akka.Actor;
using Akka.WriteBehind.Counters;
using Akka.WriteBehind.Queues;
using Akka.WriteBehind.Tests.Support;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Queues;

/// <summary>
/// The counters' ingest stage as a bounded per-key queue: width (max-pending per key), depth (max-active-keys), a key's queue
/// handed over as one set in order, and work accepted again once the queue drains. Entities are held loading by a gated store,
/// so what queues is known exactly.
/// </summary>
public abstract class CounterQueueSpecBase : CounterSpecBase, IDisposable
{
    private const string Limits = """
        akka.write-behind.counters.ingest { max-outstanding = 1, max-pending = 3, max-active-keys = 2 }
        """;

    private readonly GatedStore _gated;
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<(string Instrument, long Value, string? Queue, string? Limit)> _measurements = new();

    protected CounterQueueSpecBase(ITestOutputHelper output, string config) : base(output, Limits + "\n" + config)
    {
        _gated = new GatedStore(Target);
        Store = _gated;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "Akka.WriteBehind" && instrument.Name.StartsWith("akka.write_behind.inflight.", StringComparison.Ordinal))
                listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            string? queue = null, limit = null;
            foreach (var tag in tags)
            {
                if (tag.Key == "queue")
                    queue = tag.Value as string;
                else if (tag.Key == "limit")
                    limit = tag.Value as string;
            }

            _measurements.Enqueue((instrument.Name, value, queue, limit));
        });
        _listener.Start();
    }

    public new void Dispose()
    {
        _listener.Dispose();
        base.Dispose();
    }

    /// <summary>The latest value of an inflight instrument of this spec's counter set (gauges: observed now).</summary>
    private long Measured(string instrument, string? limit = null, bool gauge = false)
    {
        if (gauge)
            _listener.RecordObservableInstruments();
        var mine = _measurements.Where(m => m.Instrument == "akka.write_behind.inflight." + instrument && m.Queue == Counters.Settings.TypeName
            && (limit is null || m.Limit == limit)).ToList();
        return gauge ? mine.LastOrDefault().Value : mine.Sum(m => m.Value);
    }

    private QueueLedger Queue => Counters.Queue!;

    [Fact]
    public async Task Should_refuse_at_width_and_depth_while_admitted_work_completes_in_order()
    {
        // 1 in flight (its entity is loading), then key "w" queues 3 — an increment, another, a read — up to its width
        var first = AskAsync(new Increment("w", 1));
        var queued = new[] { AskAsync(new Increment("w", 2)), AskAsync(new Increment("w", 3)), AskAsync(new GetCounter("w")) };

        var width = Assert.IsType<CounterRejected>(await AskAsync(new Increment("w", 100)));
        Assert.Equal(ErrorCode.Saturated, width.Code);
        Assert.Equal(new QueueSaturated(Counters.Settings.TypeName, "w", QueueLimit.Width, 3, 3), width.Saturation);

        // a second key fits the depth (2); a third does not, while queued keys still take work up to their width
        var second = AskAsync(new Increment("d1", 5));
        var depth = Assert.IsType<CounterRejected>(await AskAsync(new Increment("d2", 7)));
        Assert.Equal(new QueueSaturated(Counters.Settings.TypeName, "d2", QueueLimit.Depth, 2, 2), depth.Saturation);
        Assert.Equal(ErrorCode.Saturated, depth.Code);
        Assert.Equal(2, Queue.ActiveKeys);
        Assert.Equal(4, Queue.Queued);
        Assert.Equal(2, Measured("active_keys", gauge: true));
        Assert.Equal(4, Measured("queued_operations", gauge: true));
        Assert.Equal(1, Measured("saturations", "width"));
        Assert.Equal(1, Measured("saturations", "depth"));
        Assert.False(first.IsCompleted || second.IsCompleted || queued.Any(q => q.IsCompleted));

        _gated.Open();

        Assert.Equal(new IncrementAccepted("w", 1), await first.WaitAsync(AwaitTimeout));
        Assert.Equal(new IncrementAccepted("w", 2), await queued[0].WaitAsync(AwaitTimeout));
        Assert.Equal(new IncrementAccepted("w", 3), await queued[1].WaitAsync(AwaitTimeout));
        Assert.Equal(6, Assert.IsType<CounterValue>(await queued[2].WaitAsync(AwaitTimeout)).Total); // the read saw what was queued before it
        Assert.Equal(new IncrementAccepted("d1", 5), await second.WaitAsync(AwaitTimeout));

        // the queues drained: both keys take work again
        await AwaitAssertAsync(() => Assert.Equal((0L, 0L), (Queue.ActiveKeys, Queue.Queued)), AwaitTimeout);
        Assert.Equal(new IncrementAccepted("d2", 7), await AskAsync(new Increment("d2", 7)));
        Assert.Equal(new IncrementAccepted("w", 100), await AskAsync(new Increment("w", 100)));
        Assert.Equal(new CounterFlushed("w", 106), await AskAsync(new FlushCounter("w")));
        Assert.Equal(new CounterFlushed("d1", 5), await AskAsync(new FlushCounter("d1")));

        Assert.Equal(1, Queue.Saturations(QueueLimit.Width));
        Assert.Equal(1, Queue.Saturations(QueueLimit.Depth));
        Assert.Equal(3, Queue.PeakWidth);
        Assert.Equal(2, Queue.PeakActiveKeys);
    }

    [Fact]
    public async Task Should_answer_each_increment_of_a_set_on_its_own_with_the_overflow_rules()
    {
        var first = AskAsync(new Increment("big", long.MaxValue - 10));
        var fits = AskAsync(new Increment("big", 10));
        var overflows = AskAsync(new Increment("big", 1));  // same set: refused on its own, the others stand
        var back = AskAsync(new Increment("big", -20));

        _gated.Open();

        Assert.Equal(new IncrementAccepted("big", long.MaxValue - 10), await first.WaitAsync(AwaitTimeout));
        Assert.Equal(new IncrementAccepted("big", 10), await fits.WaitAsync(AwaitTimeout));
        Assert.Equal(ErrorCode.Overflow, Assert.IsType<CounterRejected>(await overflows.WaitAsync(AwaitTimeout)).Code);
        Assert.Equal(new IncrementAccepted("big", -20), await back.WaitAsync(AwaitTimeout));
        Assert.Equal(new CounterFlushed("big", long.MaxValue - 20), await AskAsync(new FlushCounter("big")));
    }
}

/// <summary>Memory durability, every message serialized (the set crosses nodes in a real cluster).</summary>
public sealed class CounterQueueSpec(ITestOutputHelper output) : CounterQueueSpecBase(output, """
    akka.write-behind.counters.type-name = queue-spec-counters
    akka.actor.serialize-messages = on
    """);

/// <summary>Journal durability: a set's increments are acknowledged once journaled, its slot freed with them.</summary>
public sealed class CounterJournalQueueSpec(ITestOutputHelper output) : CounterQueueSpecBase(output, """
    akka.write-behind.counters.type-name = journal-queue-spec-counters
    akka.write-behind.counters.durability = journal
    akka.write-behind.counters.journal.sweep-interval = 5s
    """);
