using Akka.WriteBehind.Counters;

namespace Akka.WriteBehind.Tests.Counters;

/// <summary>The fast path's drains, without an actor: they visit the keys that got increments, hold back keys in flight
/// until their answer, and the timed ones retire cells that stayed idle for a whole period.</summary>
public sealed class CounterFastPathReadySpec
{
    private static List<(string Key, long Sum)> Drain(CounterFastPath path, Func<string, bool>? inFlight = null, bool mayStart = true, bool timed = true)
    {
        var taken = new List<(string, long)>();
        path.DrainReady((key, aggregate) => taken.Add((key, aggregate.Sum)), cell => inFlight?.Invoke(cell.Key) ?? false, () => mayStart, timed);
        return taken;
    }

    [Fact]
    public void Should_hand_on_the_keys_that_got_increments_in_the_order_they_got_them()
    {
        var path = new CounterFastPath(10);
        path.Increment("b", 2);
        path.Increment("a", 1);
        path.Increment("b", 3);
        Assert.Equal([("b", 5L), ("a", 1L)], Drain(path));
        Assert.Empty(Drain(path));
    }

    [Fact]
    public void Should_hold_a_key_in_flight_until_it_is_requeued()
    {
        var path = new CounterFastPath(10);
        var busy = true;
        path.Increment("k", 1);
        Assert.Empty(Drain(path, _ => busy));
        path.Increment("k", 2);
        Assert.Empty(Drain(path, _ => busy)); // still in flight: it grows

        busy = false;
        Assert.Empty(Drain(path, _ => busy)); // nobody said the answer came
        path.Requeue("k");
        Assert.Equal([("k", 3L)], Drain(path, _ => busy));
    }

    [Fact]
    public void Should_keep_the_keys_beyond_the_headroom_for_the_next_drain()
    {
        var path = new CounterFastPath(10);
        path.Increment("k", 1);
        Assert.Empty(Drain(path, mayStart: false));
        Assert.Equal([("k", 1L)], Drain(path));
    }

    [Fact]
    public void Should_retire_a_cell_that_stayed_idle_for_a_whole_period_unless_its_aggregate_is_in_flight()
    {
        var path = new CounterFastPath(2);
        path.Increment("a", 1);
        path.Increment("b", 1);
        Assert.Equal(2, Drain(path).Count);
        Assert.Equal(FastIncrementStatus.Saturated, path.Increment("c", 1)); // two cells at most

        var inFlight = new HashSet<string> { "a" };
        Drain(path, inFlight.Contains); // the period they were taken in ends: nothing retired yet
        Assert.Equal(FastIncrementStatus.Saturated, path.Increment("c", 1));
        Drain(path, inFlight.Contains); // b idle a whole period: retired; a still in flight: kept
        Assert.Equal(FastIncrementStatus.Buffered, path.Increment("c", 1));
        Assert.Equal(FastIncrementStatus.Saturated, path.Increment("d", 1));

        inFlight.Clear();
        path.Requeue("a"); // its answer came, and nothing grew meanwhile
        Assert.Equal([("c", 1L)], Drain(path));
        Assert.Equal(FastIncrementStatus.Saturated, path.Increment("d", 1)); // a was answered in the period just ended
        Drain(path); // and stayed idle through the next one
        Assert.Equal(FastIncrementStatus.Buffered, path.Increment("d", 1));
    }

    [Fact]
    public void Should_list_a_cell_once_per_period_however_often_it_is_taken_and_answered()
    {
        var path = new CounterFastPath(10, retireEvery: 1000); // no retiring drain in this spec
        path.Increment("k", 1);
        Assert.Equal([("k", 1L)], Drain(path));
        Assert.Equal(1, path.TouchedThisPeriod); // a new cell is listed at its first take

        for (var i = 0; i < 50; i++)
        {
            path.Increment("k", 1);
            Assert.Single(Drain(path));
            path.Requeue("k"); // answered, idle again
        }

        path.Increment("other", 1);
        Drain(path);
        Assert.Equal(2, path.TouchedThisPeriod);
    }

    [Fact]
    public void Should_keep_a_cell_taken_again_in_the_period_before_the_retiring_drain()
    {
        var path = new CounterFastPath(10);
        path.Increment("k", 1);
        Drain(path);
        Drain(path);
        path.Increment("k", 2);
        Assert.Equal([("k", 2L)], Drain(path, timed: false)); // taken again, by a woken drain
        Drain(path); // k was taken two periods ago, but also in the one ending now: kept
        Assert.Equal(1, path.CellCount);
        Drain(path); // idle through a whole period since
        Assert.Equal(0, path.CellCount);
    }

    [Fact]
    public void Should_retire_only_at_timed_drains_and_every_few_of_them_while_under_half_full()
    {
        var path = new CounterFastPath(10, retireEvery: 3);
        path.Increment("k", 1);
        Drain(path);
        for (var i = 0; i < 10; i++)
            Drain(path, timed: false); // woken drains never retire
        Drain(path);
        Drain(path); // the third timed drain: the first retiring one, k was taken before it
        Assert.Equal(1, path.CellCount);
        Drain(path);
        Drain(path);
        Assert.Equal(1, path.CellCount);
        Drain(path); // the second retiring drain: k idle since before the first
        Assert.Equal(0, path.CellCount);

        // half full: every timed drain retires
        for (var i = 0; i < 5; i++)
            path.Increment($"h{i}", 1);
        Drain(path);
        Drain(path);
        Drain(path);
        Assert.Equal(0, path.CellCount);
    }

    [Fact]
    public void Should_retire_every_100_ms_of_timed_drains()
    {
        Assert.Equal(20, CounterFastPath.RetireEveryFor(TimeSpan.FromMilliseconds(5)));
        Assert.Equal(1, CounterFastPath.RetireEveryFor(TimeSpan.FromMilliseconds(250)));
    }

    [Fact]
    public void Should_not_look_at_a_key_in_flight_again_at_every_drain()
    {
        var path = new CounterFastPath(1_000);
        for (var i = 0; i < 1_000; i++)
            path.Increment($"k{i}", 1);
        Assert.Equal(1_000, Drain(path).Count);

        var lookups = 0;
        for (var drain = 0; drain < 10; drain++)
            Drain(path, _ => ++lookups > 0); // every key still in flight
        Assert.Equal(1_000, lookups); // once each, at the first retiring drain after they were taken; not once per drain

        for (var i = 0; i < 1_000; i++)
            path.Requeue($"k{i}"); // answered, idle
        Assert.Equal(FastIncrementStatus.Saturated, path.Increment("fresh", 1)); // a thousand cells at most
        Drain(path);
        Drain(path);
        Assert.Equal(FastIncrementStatus.Buffered, path.Increment("fresh", 1)); // the idle ones were retired
    }

    [Fact]
    public async Task Should_answer_every_waiter_of_an_aggregate_and_add_nothing_per_caller_but_its_task()
    {
        var path = new CounterFastPath(10);
        var first = path.IncrementAsync("k", 1); // the key's cell and its place on the ready queue
        var before = GC.GetAllocatedBytesForCurrentThread();
        _ = new CounterFastPath.TaskWaiter(0);
        var perCaller = GC.GetAllocatedBytesForCurrentThread() - before; // the waiter, which completes its task, and the task
        before = GC.GetAllocatedBytesForCurrentThread();
        _ = new TaskCompletionSource<ICounterReply>();
        var bare = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(perCaller <= bare + 2 * sizeof(long), $"{perCaller} B per caller, a bare completion source {bare} B"); // + delta, chain

        var tasks = new Task<ICounterReply>[100];
        before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < tasks.Length; i++)
            tasks[i] = path.IncrementAsync("k", i + 2);
        Assert.Equal(perCaller * tasks.Length, GC.GetAllocatedBytesForCurrentThread() - before); // no list growing per key

        var drained = new List<CounterFastPath.Aggregate>();
        path.DrainReady((_, aggregate) => drained.Add(aggregate), _ => false, () => true, timed: true);
        var aggregate = Assert.Single(drained);
        Assert.Equal(101, aggregate.WaiterCount());
        path.Delivered("k", aggregate);
        var replies = await Task.WhenAll(tasks.Prepend(first));
        Assert.Equal(Enumerable.Range(1, 101).Select(d => (long)d), replies.Cast<IncrementAccepted>().Select(r => r.Delta));
    }

    [Fact]
    public async Task Should_hand_the_entitys_answer_to_the_waiters_whose_delta_it_names()
    {
        var path = new CounterFastPath(10);
        var one = path.IncrementAsync("k", 1);
        var other = path.IncrementAsync("k", 2);
        var drained = new List<CounterFastPath.Aggregate>();
        path.DrainReady((_, aggregate) => drained.Add(aggregate), _ => false, () => true, timed: true);

        var answer = new IncrementAccepted("k", 1);
        path.Delivered("k", Assert.Single(drained), answer);
        Assert.Same(answer, await one); // no answer of its own
        Assert.Equal(new IncrementAccepted("k", 2), await other);
    }

    [Fact]
    public async Task Should_hand_a_keys_callers_the_same_answer_while_their_delta_repeats()
    {
        var path = new CounterFastPath(10);
        async Task<ICounterReply> Answered(long delta)
        {
            var task = path.IncrementAsync("k", delta);
            var drained = new List<CounterFastPath.Aggregate>();
            path.DrainReady((_, aggregate) => drained.Add(aggregate), _ => false, () => true, timed: false);
            path.Delivered("k", Assert.Single(drained));
            return await task;
        }

        var first = await Answered(1);
        Assert.Same(first, await Answered(1)); // the next aggregate of the key: no answer made per caller
        Assert.Equal(new IncrementAccepted("k", 5), await Answered(5)); // another delta gets its own
        Assert.Equal(new IncrementAccepted("k", 1), await Answered(1));
    }

    [Fact]
    public void Should_requeue_the_keys_new_cell_when_the_answered_aggregates_cell_was_retired()
    {
        var path = new CounterFastPath(10);
        _ = path.IncrementAsync("k", 1);
        var taken = new List<CounterFastPath.Aggregate>();
        path.DrainReady((_, aggregate) => taken.Add(aggregate), _ => false, () => true, timed: false);
        var inFlight = Assert.Single(taken);
        path.DrainAll((_, _) => { }); // finds the cell empty and retires it while its aggregate is still in flight
        Assert.Equal(FastIncrementStatus.Buffered, path.Increment("k", 2)); // a new cell for the key
        Assert.Empty(Drain(path, inFlight: _ => true)); // waits for the answer

        path.Requeue("k", inFlight.Source);

        Assert.Equal(2, Assert.Single(Drain(path)).Sum);
    }
}
