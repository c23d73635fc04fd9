using Akka.Actor;
using Akka.WriteBehind.Counters;
using Akka.WriteBehind.Tests.Support;

namespace Akka.WriteBehind.Tests.Counters;

/// <summary>The ingest stage's record per key (route, aggregates in flight, a routed one on its way), without an actor.</summary>
public sealed class IngestKeyStatesSpec
{
    private static readonly IActorRef LogA = new NamedActorRef("log-a");
    private static readonly IActorRef LogB = new NamedActorRef("log-b");

    [Fact]
    public void Should_hand_back_a_keys_aggregates_in_the_order_they_were_sent()
    {
        var keys = new IngestKeyStates();
        keys.Add("a", new CounterFastPath.Aggregate(1, 1));
        keys.Add("b", new CounterFastPath.Aggregate(10, 1));
        keys.Add("a", new CounterFastPath.Aggregate(2, 2));
        keys.Add("a", new CounterFastPath.Aggregate(3, 3));
        Assert.Equal(2, keys.InFlightKeys);

        Assert.True(keys.TryTake("a", out var first, out var last));
        Assert.Equal((1L, false), (first.Sum, last));
        Assert.True(keys.TryTake("a", out var second, out last));
        Assert.Equal((2L, false), (second.Sum, last));
        keys.Add("a", new CounterFastPath.Aggregate(4, 4)); // behind the one still in flight
        Assert.True(keys.TryTake("a", out var third, out last));
        Assert.Equal((3L, false), (third.Sum, last));
        Assert.True(keys.TryTake("a", out var fourth, out last));
        Assert.Equal((4L, true), (fourth.Sum, last));

        Assert.False(keys.InFlight("a"));
        Assert.False(keys.TryTake("a", out _, out _));
        Assert.True(keys.TryTake("b", out var b, out last));
        Assert.Equal((10L, true), (b.Sum, last));
        Assert.Equal(0, keys.InFlightKeys);
        Assert.Empty(keys.KeysInFlight);
    }

    [Fact]
    public void Should_route_only_a_key_with_a_route_and_mark_it_routed_until_its_answer()
    {
        var keys = new IngestKeyStates();
        Assert.False(keys.TryRoute("k", new CounterFastPath.Aggregate(1, 1), out _));
        Assert.False(keys.InFlight("k")); // nothing recorded without a route

        keys.OpenRoute("k", LogA);
        Assert.True(keys.TryRoute("k", new CounterFastPath.Aggregate(2, 1), out var log));
        Assert.Same(LogA, log);
        Assert.True(keys.InFlight("k"));
        Assert.True(keys.IsRouted("k"));
        Assert.Equal(["k"], keys.KeysInFlight);

        Assert.True(keys.TryTake("k", out var answered, out var last, routeAnswered: true));
        Assert.Equal((2L, true), (answered.Sum, last));
        Assert.False(keys.IsRouted("k"));
        Assert.False(keys.InFlight("k"));
        Assert.True(keys.TryRoute("k", new CounterFastPath.Aggregate(3, 1), out _)); // the route stays open
    }

    [Fact]
    public void Should_keep_a_key_routed_after_its_aggregate_was_taken_until_the_route_is_answered()
    {
        // a log that did not take the aggregate: it is taken back and sent to the entity, and commands still wait
        var keys = new IngestKeyStates();
        keys.OpenRoute("k", LogA);
        Assert.True(keys.TryRoute("k", new CounterFastPath.Aggregate(1, 1), out _));
        keys.CloseRoute("k", LogA);
        Assert.True(keys.TryTake("k", out var aggregate, out _));
        keys.Add("k", aggregate);
        Assert.True(keys.IsRouted("k"));

        keys.RouteAnswered("k");
        Assert.False(keys.IsRouted("k"));
        Assert.True(keys.InFlight("k"));
        Assert.False(keys.TryRoute("k", new CounterFastPath.Aggregate(2, 1), out _)); // closed
    }

    [Fact]
    public void Should_close_a_route_only_through_its_own_log()
    {
        var keys = new IngestKeyStates();
        keys.OpenRoute("a", LogA);
        keys.OpenRoute("b", LogB);
        keys.OpenRoute("c", LogA);

        keys.CloseRoute("a", LogB); // a stale close from another log
        Assert.True(keys.TryRoute("a", new CounterFastPath.Aggregate(1, 1), out _));

        keys.CloseRoutesOf(LogA);
        Assert.False(keys.TryRoute("c", new CounterFastPath.Aggregate(1, 1), out _));
        Assert.True(keys.TryRoute("b", new CounterFastPath.Aggregate(1, 1), out _));
        Assert.True(keys.InFlight("a")); // closing a route leaves its aggregate in flight

        keys.CloseRoutes();
        Assert.False(keys.TryRoute("b", new CounterFastPath.Aggregate(1, 1), out _));
    }

    [Fact]
    public void Should_find_a_keys_entry_through_what_its_cell_and_its_batch_kept_only_while_it_is_the_keys()
    {
        var keys = new IngestKeyStates();
        var cell = new CounterFastPath.Cell("a");
        keys.OpenRoute("a", LogA, "route-a");
        Assert.True(keys.TryRoute("a", new CounterFastPath.Aggregate(1, 1, Source: cell), out _, out var entry, out var token));
        Assert.Same(entry, cell.Stage);
        Assert.Equal("route-a", token); // the log's record of the route, handed back with the aggregate
        Assert.True(keys.InFlight(cell));
        Assert.True(keys.TryTake(entry, "a", out var answered, out var last, routeAnswered: true));
        Assert.Equal((1L, true), (answered.Sum, last));
        Assert.False(keys.InFlight(cell));

        // the route closes, so the entry goes, and is reused for another key: what was kept no longer stands for "a"
        keys.CloseRoute("a", LogA);
        keys.Add("b", new CounterFastPath.Aggregate(5, 1));
        Assert.False(keys.InFlight(cell));
        Assert.False(keys.TryTake(entry, "a", out _, out _));
        Assert.True(keys.InFlight("b"));

        keys.Add("a", new CounterFastPath.Aggregate(7, 1));
        Assert.True(keys.InFlight(cell)); // the key's new entry, found by its key
        Assert.True(keys.TryTake(entry, "a", out var seven, out _));
        Assert.Equal(7, seven.Sum);
        Assert.True(keys.TryTake("b", out var five, out _));
        Assert.Equal(5, five.Sum);
    }

    [Fact]
    public void Should_allocate_nothing_for_one_aggregate_per_key_once_warm()
    {
        var keys = new IngestKeyStates();
        var names = Enumerable.Range(0, 100).Select(i => $"k{i}").ToArray();
        foreach (var key in names.Where((_, i) => i % 2 == 0))
            keys.OpenRoute(key, LogA); // half routed, half sent to their entities
        for (var round = 0; round < 2; round++)
            Cycle(); // the dictionary grows to its size and the code is jitted

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var round = 0; round < 10; round++)
            Cycle();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);

        void Cycle()
        {
            foreach (var key in names)
                if (!keys.TryRoute(key, new CounterFastPath.Aggregate(1, 1), out _))
                    keys.Add(key, new CounterFastPath.Aggregate(1, 1));
            foreach (var key in names)
                Assert.True(keys.TryTake(key, out _, out _, routeAnswered: true));
        }
    }
}
