using Akka.Actor;

namespace Akka.WriteBehind.Counters;

/// <summary>
/// INTERNAL API
/// <para>
/// A shard log's routes: the keys whose counters let this node's ingest stage send their aggregates through the log, so an
/// acknowledged increment costs the log's event and no round trip to its counter. Pure bookkeeping, kept by the log: which
/// counter and ingest stage a route belongs to, how many of its deltas are persisted or on their way and not yet handed to
/// the counter, and a bound on the counter's numbers.
/// </para>
/// <para>
/// The bound keeps the counter's numbers within 64 bits without asking it: it starts at |stored| + |unstored| as the counter
/// offered the route and grows by the magnitude of every delta journaled for the key since. While it stays at most
/// <see cref="Limit"/> no sum of the counter can overflow; a delta that would take it past that closes the route, and the
/// counter checks what comes next exactly, as it does without a route.
/// </para>
/// </summary>
internal sealed class ShardLogRoutes
{
    /// <summary>The most the bound may reach: 2^62, half of what a 64-bit sum holds.</summary>
    public static readonly Int128 Limit = (Int128)1 << 62;

    private readonly Dictionary<string, Route> _byKey = new(StringComparer.Ordinal);

    /// <summary>Open routes, closing ones included.</summary>
    public int Count => _byKey.Count;

    /// <summary>Every route, for a log that stops.</summary>
    public IEnumerable<Route> All => _byKey.Values;

    /// <summary>Opens a route for <paramref name="key"/>, unless it has one or its counter's numbers are too large to route.</summary>
    public Route? TryOpen(string key, IActorRef counter, IActorRef ingest, long routeId, long magnitude, CounterRouteInbox inbox)
    {
        if (magnitude < 0 || magnitude > Limit / 2 || _byKey.ContainsKey(key))
            return null;
        var route = new Route(key, counter, ingest, routeId, inbox) { Bound = magnitude };
        _byKey[key] = route;
        return route;
    }

    /// <summary>The open route of <paramref name="key"/> belonging to <paramref name="counter"/>, if any.</summary>
    public Route? Of(string key, IActorRef counter) =>
        _byKey.TryGetValue(key, out var route) && route.Counter.Equals(counter) ? route : null;

    /// <summary>The route of <paramref name="key"/>, closing or not.</summary>
    public Route? Of(string key) => _byKey.GetValueOrDefault(key);

    /// <summary>
    /// Takes a routed aggregate of <paramref name="key"/> from <paramref name="ingest"/> into the next event: the route is open,
    /// belongs to that ingest stage and keeps its bound with the delta.
    /// </summary>
    public RouteTake TryTake(string key, IActorRef ingest, long delta, out Route? route) => TryTake(key, null, ingest, delta, out route);

    /// <summary>
    /// <see cref="TryTake(string, IActorRef, long, out Route?)"/> through <paramref name="kept"/>, this log's route for the key
    /// as the ingest stage kept it since <see cref="RouteOpened"/>: while it is not removed it is the key's route, and no
    /// lookup is needed (one per acknowledged increment under load).
    /// </summary>
    public RouteTake TryTake(string key, Route? kept, IActorRef ingest, long delta, out Route? route)
    {
        route = kept is { Removed: false } && string.Equals(kept.Key, key, StringComparison.Ordinal) ? kept : _byKey.GetValueOrDefault(key);
        if (route is null || route.Closing || !route.Ingest.Equals(ingest))
            return RouteTake.NotRouted;
        var bound = route.Bound + Magnitude(delta);
        if (bound > Limit)
            return RouteTake.BoundReached;
        route.Bound = bound;
        route.Unforwarded++;
        route.TookSinceKeepAlive = true;
        return RouteTake.Taken;
    }

    /// <summary>
    /// The keys whose routes took a delta since the last call. Routed deltas do not pass the counters' shard, so sharding
    /// would see these counters idle and passivate them while they are busy; the log keeps them alive through the shard.
    /// </summary>
    public List<string> TakeBusy()
    {
        var busy = new List<string>();
        foreach (var route in _byKey.Values)
        {
            if (!route.TookSinceKeepAlive)
                continue;
            route.TookSinceKeepAlive = false;
            busy.Add(route.Key);
        }

        return busy;
    }

    /// <summary>
    /// A delta the counter itself sent for the next event: the bound grows with it.
    /// </summary>
    /// <returns>Whether the bound is past <see cref="Limit"/> now (the route must close).</returns>
    public static bool Journaling(Route route, long delta)
    {
        route.Bound += Magnitude(delta);
        return route.Bound > Limit;
    }

    /// <summary>A routed delta of <paramref name="route"/> was handed to its counter (or to recovery).</summary>
    /// <returns>Whether the route was closing and is done now: it is removed, and its counter is to be told.</returns>
    public bool Forwarded(Route route)
    {
        route.Unforwarded--;
        return TryFinish(route);
    }

    /// <summary>Starts closing <paramref name="route"/>: no aggregate is taken through it from now on.</summary>
    /// <returns>Whether it was open until now (its ingest stage is to be told).</returns>
    public static bool BeginClose(Route route)
    {
        if (route.Closing)
            return false;
        route.Closing = true;
        return true;
    }

    /// <summary>Removes a closing route once every delta taken through it was handed on.</summary>
    /// <returns>Whether it was removed now.</returns>
    public bool TryFinish(Route route)
    {
        if (!route.Closing || route.Unforwarded > 0 || !_byKey.TryGetValue(route.Key, out var current) || current != route)
            return false;
        _byKey.Remove(route.Key);
        route.Removed = true;
        return true;
    }

    private static Int128 Magnitude(long delta) => delta < 0 ? -(Int128)delta : delta;

    /// <summary>One key's route.</summary>
    internal sealed class Route(string key, IActorRef counter, IActorRef ingest, long routeId, CounterRouteInbox inbox)
    {
        public string Key { get; } = key;

        public IActorRef Counter { get; } = counter;

        public IActorRef Ingest { get; } = ingest;

        /// <summary>Where the counter takes the deltas persisted through the route.</summary>
        public CounterRouteInbox Inbox { get; } = inbox;

        /// <summary>The counter's number for it (its answer names it).</summary>
        public long RouteId { get; } = routeId;

        /// <summary>|stored| + |unstored| at the offer, plus the magnitude of every delta journaled since.</summary>
        public Int128 Bound { get; set; }

        /// <summary>Deltas taken through it that are not handed to the counter yet.</summary>
        public int Unforwarded { get; set; }

        public bool Closing { get; set; }

        /// <summary>No longer the key's route: a reference kept to it (<see cref="TryTake(string, Route?, IActorRef, long, out Route?)"/>) looks the key up again.</summary>
        public bool Removed { get; set; }

        /// <summary>The key's range in the log's trims, kept so that recording its events costs no lookup.</summary>
        public ShardLogTrims.Range? Unstored;

        /// <summary>A delta was taken through it since the log last kept its counter alive.</summary>
        public bool TookSinceKeepAlive { get; set; }
    }
}

/// <summary>INTERNAL API: what <see cref="ShardLogRoutes.TryTake(string, IActorRef, long, out ShardLogRoutes.Route?)"/> did.</summary>
internal enum RouteTake
{
    /// <summary>In the next event.</summary>
    Taken,

    /// <summary>The key has no open route from that ingest stage.</summary>
    NotRouted,

    /// <summary>The delta would take the route's bound past <see cref="ShardLogRoutes.Limit"/>: the route must close.</summary>
    BoundReached,
}
