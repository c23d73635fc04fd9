using Akka.Actor;
using Akka.WriteBehind.Counters;
using Akka.WriteBehind.Tests.Support;

namespace Akka.WriteBehind.Tests.Counters;

/// <summary>
/// A shard log's route bookkeeping on its own: who may route, the 64-bit bound, which routed counters to keep alive, and
/// when a closing route is done.
/// </summary>
public sealed class ShardLogRoutesSpec
{
    private static readonly IActorRef Counter = new NamedActorRef("counter");
    private static readonly IActorRef Ingest = new NamedActorRef("ingest");
    private static readonly IActorRef OtherIngest = new NamedActorRef("other-ingest");

    [Fact]
    public void Should_open_one_route_per_key_and_only_for_numbers_far_from_the_64_bit_bound()
    {
        var routes = new ShardLogRoutes();
        Assert.Null(routes.TryOpen("big", Counter, Ingest, 1, (long)(ShardLogRoutes.Limit / 2) + 1, new CounterRouteInbox()));
        Assert.NotNull(routes.TryOpen("k", Counter, Ingest, 1, (long)(ShardLogRoutes.Limit / 2), new CounterRouteInbox()));
        Assert.Null(routes.TryOpen("k", Counter, Ingest, 2, 0, new CounterRouteInbox()));
        Assert.Equal(1, routes.Count);
    }

    [Fact]
    public void Should_take_through_a_kept_route_only_while_it_is_the_keys_route()
    {
        var routes = new ShardLogRoutes();
        var first = routes.TryOpen("k", Counter, Ingest, 1, 0, new CounterRouteInbox())!;
        var other = routes.TryOpen("other", Counter, Ingest, 2, 0, new CounterRouteInbox())!;
        Assert.Equal(RouteTake.Taken, routes.TryTake("k", first, Ingest, 1, out var route));
        Assert.Same(first, route);
        Assert.Equal(RouteTake.Taken, routes.TryTake("k", other, Ingest, 1, out route)); // another key's: looked up
        Assert.Same(first, route);

        ShardLogRoutes.BeginClose(first);
        Assert.Equal(RouteTake.NotRouted, routes.TryTake("k", first, Ingest, 1, out _));
        Assert.False(routes.Forwarded(first));
        Assert.True(routes.Forwarded(first)); // both deltas handed on: removed
        var second = routes.TryOpen("k", Counter, Ingest, 3, 0, new CounterRouteInbox())!;
        Assert.Equal(RouteTake.Taken, routes.TryTake("k", first, Ingest, 1, out route)); // the removed one: looked up
        Assert.Same(second, route);
    }

    [Fact]
    public void Should_name_each_route_that_took_a_delta_once_per_keep_alive()
    {
        var routes = new ShardLogRoutes();
        routes.TryOpen("busy", Counter, Ingest, 1, 0, new CounterRouteInbox());
        routes.TryOpen("quiet", new NamedActorRef("quiet-counter"), Ingest, 2, 0, new CounterRouteInbox());
        Assert.Empty(routes.TakeBusy());

        Assert.Equal(RouteTake.Taken, routes.TryTake("busy", Ingest, 1, out _));
        Assert.Equal(RouteTake.Taken, routes.TryTake("busy", Ingest, 1, out _));
        Assert.Equal(RouteTake.NotRouted, routes.TryTake("quiet", OtherIngest, 1, out _));
        Assert.Equal(["busy"], routes.TakeBusy());
        Assert.Empty(routes.TakeBusy());
    }

    [Fact]
    public void Should_take_only_the_route_s_own_ingest_stage_s_deltas_while_the_bound_holds()
    {
        var routes = new ShardLogRoutes();
        var route = routes.TryOpen("k", Counter, Ingest, 1, (long)(ShardLogRoutes.Limit / 2), new CounterRouteInbox())!;
        Assert.Equal(RouteTake.NotRouted, routes.TryTake("k", OtherIngest, 1, out _));
        Assert.Equal(RouteTake.NotRouted, routes.TryTake("unknown", Ingest, 1, out _));

        // the bound grows by each delta's magnitude, whatever its sign: up to the limit and not beyond
        Assert.Equal(RouteTake.Taken, routes.TryTake("k", Ingest, -(long)(ShardLogRoutes.Limit / 4), out _));
        Assert.Equal(RouteTake.Taken, routes.TryTake("k", Ingest, (long)(ShardLogRoutes.Limit / 4), out _));
        Assert.Equal(ShardLogRoutes.Limit, route.Bound);
        Assert.Equal(RouteTake.BoundReached, routes.TryTake("k", Ingest, 1, out _));
        Assert.Equal(2, route.Unforwarded);
        Assert.Equal(ShardLogRoutes.Limit, route.Bound);
    }

    [Fact]
    public void Should_count_the_counter_s_own_deltas_and_the_most_negative_one_in_the_bound()
    {
        var routes = new ShardLogRoutes();
        var route = routes.TryOpen("k", Counter, Ingest, 1, 0, new CounterRouteInbox())!;
        Assert.False(ShardLogRoutes.Journaling(route, (long)ShardLogRoutes.Limit));
        Assert.True(ShardLogRoutes.Journaling(route, -1));

        var other = routes.TryOpen("min", Counter, Ingest, 1, 0, new CounterRouteInbox())!;
        Assert.Equal(RouteTake.BoundReached, routes.TryTake("min", Ingest, long.MinValue, out _));
        Assert.Equal(0, other.Bound);
    }

    [Fact]
    public void Should_finish_closing_a_route_only_once_every_delta_taken_through_it_is_handed_on()
    {
        var routes = new ShardLogRoutes();
        var route = routes.TryOpen("k", Counter, Ingest, 1, 0, new CounterRouteInbox())!;
        Assert.Equal(RouteTake.Taken, routes.TryTake("k", Ingest, 5, out _));

        Assert.True(ShardLogRoutes.BeginClose(route));
        Assert.False(ShardLogRoutes.BeginClose(route)); // its ingest stage is told once
        Assert.Equal(RouteTake.NotRouted, routes.TryTake("k", Ingest, 1, out _));
        Assert.False(routes.TryFinish(route));
        Assert.Same(route, routes.Of("k"));

        Assert.True(routes.Forwarded(route));
        Assert.Null(routes.Of("k"));
        Assert.NotNull(routes.TryOpen("k", Counter, Ingest, 2, 0, new CounterRouteInbox())); // the key may be routed again
        Assert.False(routes.TryFinish(route)); // the old route does not remove the new one
        Assert.Null(routes.Of("k", OtherIngest));
    }
}
