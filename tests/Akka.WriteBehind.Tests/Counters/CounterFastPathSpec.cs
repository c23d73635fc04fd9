using System.Collections.Concurrent;
using Akka.Actor;
using Akka.WriteBehind.Counters;
using Akka.WriteBehind.Tests.Support;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Counters;

/// <summary>The fast path with a short aggregation window: many keys, several threads, exact totals.</summary>
public sealed class CounterFastPathSpec(ITestOutputHelper output)
    : CounterSpecBase(output, "akka.write-behind.counters.ingest.aggregate-window = 20ms")
{
    [Fact]
    public async Task Should_store_exact_totals_for_many_keys_from_several_threads()
    {
        const int keys = 50, threads = 4, perThread = 5_000;
        var statuses = new ConcurrentBag<FastIncrementStatus>();
        await Task.WhenAll(Enumerable.Range(0, threads).Select(t => Task.Run(() =>
        {
            for (var i = 0; i < perThread; i++)
            {
                var status = Counters.Increment($"fast-{(i + t) % keys}", 1 + t);
                if (status != FastIncrementStatus.Buffered)
                    statuses.Add(status);
            }
        })));
        Assert.Empty(statuses);

        // key k got perThread / keys increments from each thread t, of 1 + t each
        const long expectedPerKey = perThread / keys * (1 + 2 + 3 + 4);
        await AwaitAssertAsync(() => Assert.Equal(threads * perThread, Counters.FastPath!.DeliveredIncrements), AwaitTimeout);
        for (var k = 0; k < keys; k++)
            Assert.IsType<CounterFlushed>(await AskAsync(new FlushCounter($"fast-{k}")));
        for (var k = 0; k < keys; k++)
            Assert.Equal(expectedPerKey, await StoredValueAsync($"fast-{k}"));
        Assert.Equal(0, Counters.FastPath!.RefusedIncrements);
    }

    [Fact]
    public void Should_refuse_invalid_keys_at_once()
    {
        Assert.Equal(FastIncrementStatus.InvalidKey, Counters.Increment("", 1));
        Assert.Equal(FastIncrementStatus.InvalidKey, Counters.Increment(null!, 1));
        Assert.Equal(FastIncrementStatus.InvalidKey, Counters.Increment(new string('k', 10_000), 1));
    }
}

/// <summary>A window that never ends within a test: only reads, flushes and shutdown drain the aggregates.</summary>
public sealed class CounterFastPathDrainSpec(ITestOutputHelper output)
    : CounterSpecBase(output, "akka.write-behind.counters { ingest.aggregate-window = 1h, flush-interval = 1h }")
{
    [Fact]
    public async Task Should_drain_a_key_before_a_read_of_it()
    {
        for (var i = 0; i < 1000; i++)
            Assert.Equal(FastIncrementStatus.Buffered, Counters.Increment("ryw", 3));
        Assert.Equal(new CounterValue("ryw", 0, 3000, 3000), await AskAsync(new GetCounter("ryw")));

        Counters.Increment("ryw", -1000);
        Assert.Equal(new CounterFlushed("ryw", 2000), await AskAsync(new FlushCounter("ryw")));
        Assert.Equal(2000, await StoredValueAsync("ryw"));

        // fast, then Ask, then fast: the entity sees them in this order
        Counters.Increment("ryw", 1);
        Assert.Equal(new IncrementAccepted("ryw", 10), await AskAsync(new Increment("ryw", 10)));
        Counters.Increment("ryw", 100);
        Assert.Equal(2111, ((CounterValue)await AskAsync(new GetCounter("ryw"))).Total);
        await AwaitAssertAsync(() => Assert.Equal(1003, Counters.FastPath!.DeliveredIncrements), AwaitTimeout);
    }

    [Fact]
    public async Task Should_split_an_overflowing_aggregate_and_count_the_refused_part()
    {
        var refusals = new ConcurrentQueue<FastIncrementRefusal>();
        Counters.FastPath!.Refused += refusals.Enqueue;

        Assert.Equal(FastIncrementStatus.Buffered, Counters.Increment("big", long.MaxValue - 1));
        Assert.Equal(FastIncrementStatus.Buffered, Counters.Increment("big", 1));  // the aggregate is MaxValue now
        Assert.Equal(FastIncrementStatus.Buffered, Counters.Increment("big", 5));  // would wrap: split into a new aggregate
        Assert.Equal(FastIncrementStatus.Buffered, Counters.Increment("big", 7));

        // the first aggregate fits; the second (+12, two increments) overflows the total and is refused, never wrapped
        Assert.Equal(long.MaxValue, ((CounterValue)await AskAsync(new GetCounter("big"))).Total);
        await AwaitAssertAsync(() => Assert.Equal(2, Counters.FastPath.RefusedIncrements), AwaitTimeout);
        Assert.Equal(2, Counters.FastPath.DeliveredIncrements);
        var refusal = Assert.Single(refusals);
        Assert.Equal(new FastIncrementRefusal("big", 12, 2, ErrorCode.Overflow, refusal.Message), refusal);

        // a negative aggregate netting it out is accepted
        Assert.Equal(FastIncrementStatus.Buffered, Counters.Increment("big", -10));
        Assert.Equal(long.MaxValue - 10, ((CounterValue)await AskAsync(new GetCounter("big"))).Total);
    }

    [Fact]
    public void Should_refuse_an_increment_once_a_key_holds_the_most_splits()
    {
        Assert.Equal(FastIncrementStatus.Buffered, Counters.Increment("splits", long.MaxValue));
        for (var i = 0; i < CounterFastPath.MaxSplits; i++)
            Assert.Equal(FastIncrementStatus.Buffered, Counters.Increment("splits", long.MaxValue));
        Assert.Equal(FastIncrementStatus.Overflow, Counters.Increment("splits", long.MaxValue));
    }

    [Fact]
    public async Task Should_flush_increments_made_right_before_shutdown()
    {
        const int keys = 20;
        for (var k = 0; k < keys; k++)
            for (var i = 0; i <= k; i++)
                Assert.Equal(FastIncrementStatus.Buffered, Counters.Increment($"bye-{k}", 2));

        await CoordinatedShutdown.Get(Sys).Run(CoordinatedShutdown.ClrExitReason.Instance).WaitAsync(TimeSpan.FromSeconds(60));

        for (var k = 0; k < keys; k++)
            Assert.Equal(2 * (k + 1), await StoredValueAsync($"bye-{k}"));
        Assert.Equal(FastIncrementStatus.ShuttingDown, Counters.Increment("bye-0", 1));
    }
}

/// <summary>Tiny queue bounds: the fast path keeps what the ingest stage cannot take and refuses new keys visibly.</summary>
public sealed class CounterFastPathSaturationSpec(ITestOutputHelper output)
    : CounterSpecBase(output, """
        akka.write-behind.counters.ingest {
          aggregate-window = 10ms
          max-outstanding = 1
          buffer-size = 2
          max-pending = 1
          max-active-keys = 1
          fast-path-max-keys = 8
        }
        """)
{
    [Fact]
    public async Task Should_store_or_visibly_refuse_every_increment()
    {
        const int keys = 30, threads = 3, perThread = 3_000;
        var buffered = new long[keys];
        long saturated = 0;
        await Task.WhenAll(Enumerable.Range(0, threads).Select(t => Task.Run(() =>
        {
            for (var i = 0; i < perThread; i++)
            {
                var k = (i / 7 + t * 11) % keys;
                switch (Counters.Increment($"sat-{k}", 1))
                {
                    case FastIncrementStatus.Buffered:
                        Interlocked.Increment(ref buffered[k]);
                        break;
                    case FastIncrementStatus.Saturated:
                        Interlocked.Increment(ref saturated);
                        break;
                    case var other:
                        Assert.Fail($"unexpected {other}");
                        break;
                }
            }
        })));

        Assert.True(saturated > 0, "fast-path-max-keys should have refused some new keys");
        Assert.Equal(threads * perThread, buffered.Sum() + saturated);
        await AwaitAssertAsync(() => Assert.Equal(buffered.Sum(), Counters.FastPath!.DeliveredIncrements), AwaitTimeout);
        Assert.Equal(0, Counters.FastPath!.RefusedIncrements);

        for (var k = 0; k < keys; k++)
        {
            var key = $"sat-{k}";
            // the tiny bounds may refuse the read itself: a Saturated answer is an answer, ask again
            await AwaitAssertAsync(async () => Assert.IsType<CounterFlushed>(await AskAsync(new FlushCounter(key))), AwaitTimeout);
            Assert.Equal(buffered[k], await StoredValueAsync(key));
        }
    }
}

/// <summary>
/// An entity that has not answered (its row load is held): the fast path keeps one aggregate per key in flight and lets the
/// next one grow, instead of sending one message per window.
/// </summary>
public sealed class CounterFastPathInFlightSpec : CounterSpecBase
{
    private readonly GatedStore _gated;

    public CounterFastPathInFlightSpec(ITestOutputHelper output)
        : base(output, "akka.write-behind.counters.ingest.aggregate-window = 10ms")
    {
        _gated = new GatedStore(Target);
        Store = _gated;
    }

    [Fact]
    public async Task Should_keep_one_aggregate_per_key_in_flight_and_grow_the_next()
    {
        var fast = Counters.FastPath!;
        Assert.Equal(FastIncrementStatus.Buffered, Counters.Increment("slow", 5));
        // the first aggregate goes out with the next window; its entity waits for its row, so it is not answered
        await AwaitAssertAsync(() => Assert.Equal(1, fast.DrainedIncrements), AwaitTimeout);

        // 200 more increments over ~100 windows: they stay in the key's aggregate while the first is unanswered
        for (var i = 0; i < 200; i++)
        {
            Assert.Equal(FastIncrementStatus.Buffered, Counters.Increment("slow", 1));
            if (i % 20 == 0)
                await Task.Delay(100);
        }

        Assert.Equal(1, fast.DrainedIncrements);
        Assert.Equal(0, fast.DeliveredIncrements);

        _gated.Open();
        await AwaitAssertAsync(() => Assert.Equal(201, fast.DeliveredIncrements), AwaitTimeout);
        Assert.Equal(new CounterFlushed("slow", 205), await AskAsync(new FlushCounter("slow")));
    }

    [Fact]
    public async Task Should_drain_a_held_aggregate_for_a_read_of_its_key()
    {
        Assert.Equal(FastIncrementStatus.Buffered, Counters.Increment("read-held", 1));
        await AwaitAssertAsync(() => Assert.Equal(1, Counters.FastPath!.DrainedIncrements), AwaitTimeout);
        for (var i = 0; i < 10; i++)
            Assert.Equal(FastIncrementStatus.Buffered, Counters.Increment("read-held", 10));

        // read-your-writes: the read hands the held aggregate over ahead of itself, though the first is still unanswered
        var read = AskAsync(new GetCounter("read-held"));
        await AwaitAssertAsync(() => Assert.Equal(11, Counters.FastPath!.DrainedIncrements), AwaitTimeout);
        _gated.Open();
        Assert.Equal(new CounterValue("read-held", 0, 101, 101), await read);
    }
}
