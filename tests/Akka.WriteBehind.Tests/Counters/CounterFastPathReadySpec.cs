using Akka.WriteBehind.Counters;

namespace Akka.WriteBehind.Tests.Counters;

/// <summary>The fast path's timed drain, without an actor: it visits the keys that got increments, holds back keys in flight
/// until their answer, and retires cells that stayed idle.</summary>
public sealed class CounterFastPathReadySpec
{
    private static List<(string Key, long Sum)> Drain(CounterFastPath path, Func<string, bool>? inFlight = null, bool mayStart = true)
    {
        var taken = new List<(string, long)>();
        path.DrainReady((key, aggregate) => taken.Add((key, aggregate.Sum)), inFlight ?? (_ => false), () => mayStart);
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
    public void Should_retire_a_cell_that_stayed_idle_unless_its_aggregate_is_in_flight()
    {
        var path = new CounterFastPath(2);
        path.Increment("a", 1);
        path.Increment("b", 1);
        Assert.Equal(FastIncrementStatus.Saturated, path.Increment("c", 1)); // two cells at most
        Assert.Equal(2, Drain(path).Count);

        var inFlight = new HashSet<string> { "a" };
        Drain(path, inFlight.Contains); // b idle since it was taken: retired; a still in flight: kept
        Assert.Equal(FastIncrementStatus.Buffered, path.Increment("c", 1));
        Assert.Equal(FastIncrementStatus.Saturated, path.Increment("d", 1));

        inFlight.Clear();
        path.Requeue("a"); // its answer came, and nothing grew meanwhile
        Assert.Equal([("c", 1L)], Drain(path, inFlight.Contains)); // and a is retired now
        Assert.Equal(FastIncrementStatus.Buffered, path.Increment("d", 1));
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
        Assert.Equal(1_000, lookups); // once each, at the first drain after they were taken; not once per drain

        for (var i = 0; i < 1_000; i++)
            path.Requeue($"k{i}"); // answered, idle
        Assert.Equal(FastIncrementStatus.Saturated, path.Increment("fresh", 1)); // a thousand cells at most
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
        var perCaller = GC.GetAllocatedBytesForCurrentThread() - before; // the waiter, its completion and its task

        var tasks = new Task<ICounterReply>[100];
        before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < tasks.Length; i++)
            tasks[i] = path.IncrementAsync("k", i + 2);
        Assert.Equal(perCaller * tasks.Length, GC.GetAllocatedBytesForCurrentThread() - before); // no list growing per key

        var drained = new List<CounterFastPath.Aggregate>();
        path.DrainReady((_, aggregate) => drained.Add(aggregate), _ => false, () => true);
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
        path.DrainReady((_, aggregate) => drained.Add(aggregate), _ => false, () => true);

        var answer = new IncrementAccepted("k", 1);
        path.Delivered("k", Assert.Single(drained), answer);
        Assert.Same(answer, await one); // no answer of its own
        Assert.Equal(new IncrementAccepted("k", 2), await other);
    }
}
