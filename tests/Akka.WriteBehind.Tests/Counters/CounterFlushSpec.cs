using Akka.Actor;
using Akka.WriteBehind.Counters;
using Akka.WriteBehind.Tests.Support;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Counters;

public sealed class CounterFlushSpec(ITestOutputHelper output) : CounterSpecBase(output)
{
    [Fact]
    public async Task Should_flush_pending_delta_on_timer()
    {
        Assert.IsType<IncrementAccepted>(await AskAsync(new Increment("timer", 5)));
        Assert.IsType<IncrementAccepted>(await AskAsync(new Increment("timer", 7)));

        // nobody asks for a flush: only the entity's timer can bring the value into SQLite
        await AwaitAssertAsync(async () => Assert.Equal(12, await StoredValueAsync("timer")), AwaitTimeout);
        var value = Assert.IsType<CounterValue>(await AskAsync(new GetCounter("timer")));
        Assert.Equal(new CounterValue("timer", 12, 0, 12), value);
    }
}

public sealed class CounterWriteInFlightSpec : CounterSpecBase
{
    private readonly GatedStore _gated;

    public CounterWriteInFlightSpec(ITestOutputHelper output) : base(output, "akka.write-behind.counters.flush-interval = 1h")
    {
        _gated = new GatedStore(Target, gateReads: false, gateWrites: true);
        Store = _gated;
    }

    [Fact]
    public async Task Should_accept_increments_during_a_write_and_flush_them_in_the_next_one()
    {
        await AskAsync(new Increment("busy", 5));
        Region.Tell(new FlushCounter("busy"), TestActor);
        await AwaitConditionAsync(() => Task.FromResult(_gated.Writes.Count == 1), AwaitTimeout);

        // the write of 5 hangs in the store: the entity keeps taking increments
        Assert.Equal(new IncrementAccepted("busy", 7), await AskAsync(new Increment("busy", 7)));
        Assert.Equal(new CounterValue("busy", 0, 12, 12), await AskAsync(new GetCounter("busy")));

        _gated.Open();
        Assert.Equal(new CounterFlushed("busy", 5), await ExpectMsgAsync<CounterFlushed>(AskTimeout));
        Assert.Equal(new CounterValue("busy", 5, 7, 12), await AskAsync(new GetCounter("busy")));

        Assert.Equal(new CounterFlushed("busy", 12), await AskAsync(new FlushCounter("busy")));
        Assert.Equal([new CounterWrite("busy", 5, 1), new CounterWrite("busy", 7, 2)], _gated.Writes);
    }
}

public sealed class CounterCoalescingSpec : CounterSpecBase
{
    private readonly CountingStore _counting;

    // a flush interval far beyond the test: only FlushCounter writes
    public CounterCoalescingSpec(ITestOutputHelper output) : base(output, "akka.write-behind.counters.flush-interval = 1h")
    {
        _counting = new CountingStore(Target);
        Store = _counting;
    }

    [Fact]
    public async Task Should_write_many_increments_on_one_key_as_one_row_write()
    {
        for (var i = 1; i <= 1000; i++)
            Region.Tell(new Increment("hot", i));

        var flushed = Assert.IsType<CounterFlushed>(await AskAsync(new FlushCounter("hot")));

        Assert.Equal(500_500, flushed.Stored);
        Assert.Equal(500_500, await StoredValueAsync("hot"));
        Assert.Equal(1, _counting.WritesFor("hot"));
    }

    [Fact]
    public async Task Should_answer_flush_at_once_when_nothing_is_pending()
    {
        var flushed = Assert.IsType<CounterFlushed>(await AskAsync(new FlushCounter("idle")));
        Assert.Equal(0, flushed.Stored);
        Assert.Equal(0, _counting.WritesFor("idle"));
    }
}

public sealed class CounterRowWritesPerIntervalSpec : CounterSpecBase
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);
    private readonly CountingStore _counting;

    public CounterRowWritesPerIntervalSpec(ITestOutputHelper output) : base(output, "akka.write-behind.counters.flush-interval = 1s")
    {
        _counting = new CountingStore(Target);
        Store = _counting;
    }

    [Fact]
    public async Task Should_write_10000_increments_over_1000_keys_as_at_most_1000_rows_per_interval()
    {
        var expected = new Dictionary<string, long>();
        var started = DateTime.UtcNow;
        for (var i = 0; i < 10_000; i++)
        {
            var key = $"key-{i % 1000}";
            Region.Tell(new Increment(key, i));
            expected[key] = expected.GetValueOrDefault(key) + i;
        }

        var sending = DateTime.UtcNow - started;

        await AwaitAssertAsync(async () =>
        {
            var rows = await Database.ReadCountersAsync();
            Assert.Equal(expected, rows);
        }, AwaitTimeout);

        // each key's increments arrived within ceil(sending / interval) + 1 intervals: at most one row write per key per interval
        var intervals = (int)Math.Ceiling(sending / Interval) + 1;
        Output?.WriteLine($"sent in {sending.TotalMilliseconds:F0} ms; {_counting.TotalRowWrites} row writes in {_counting.Batches} batches");
        Assert.InRange(_counting.TotalRowWrites, 1000, 1000 * intervals);
        Assert.True(_counting.Batches < _counting.TotalRowWrites, "row writes are grouped into batches");
    }
}

/// <summary>The flush timer counts from the oldest pending increment: a write that took long is followed at once, not an interval later.</summary>
public sealed class CounterFlushDueSpec : CounterSpecBase
{
    private readonly GatedStore _gated;

    public CounterFlushDueSpec(ITestOutputHelper output)
        : base(output, "akka.write-behind.counters { flush-interval = 5s, flush-jitter = 0 }")
    {
        _gated = new GatedStore(Target, gateReads: false, gateWrites: true);
        Store = _gated;
    }

    [Fact]
    public async Task Should_write_increments_that_waited_out_a_slow_write_right_after_it()
    {
        await AskAsync(new Increment("due", 5));
        Region.Tell(new FlushCounter("due"), TestActor);
        await AwaitConditionAsync(() => Task.FromResult(_gated.Writes.Count == 1), AwaitTimeout);

        // an increment arrives while the write hangs, and waits there longer than flush-interval
        Assert.Equal(new IncrementAccepted("due", 7), await AskAsync(new Increment("due", 7)));
        await Task.Delay(TimeSpan.FromSeconds(5.5));
        _gated.Open();
        Assert.Equal(new CounterFlushed("due", 5), await ExpectMsgAsync<CounterFlushed>(AskTimeout));

        // it is already due: its write starts now (from the end of the write it would take another 5 s)
        await AwaitConditionAsync(() => Task.FromResult(_gated.Writes.Count == 2), TimeSpan.FromSeconds(3));
        Assert.Equal(new CounterWrite("due", 7, 2), _gated.Writes[1]);
    }
}
