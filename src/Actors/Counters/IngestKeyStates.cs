using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Akka.Actor;

namespace Akka.WriteBehind.Counters;

/// <summary>
/// INTERNAL API
/// <para>
/// What the ingest stage holds per key, in one dictionary entry: the key's route through its shard log (journal durability,
/// this node's logs only), the fast path's aggregates sent and not answered yet, oldest first (an entity or a log answers a
/// key's aggregates in the order they were sent), and whether a routed aggregate of the key is on its way (commands for the
/// key then wait for its answer). Under load a key holds about one increment per journal event, so each lookup here is
/// paid per acknowledged increment: a routed aggregate costs one lookup to send and one to answer, where separate
/// dictionaries cost seven. A timed drain sends at most one aggregate per key, so the first is held in the entry itself
/// and only a key with more (a read drained it meanwhile) gets a queue.
/// </para>
/// </summary>
internal sealed class IngestKeyStates
{
    private readonly Dictionary<string, Entry> _byKey = new(StringComparer.Ordinal);
    private int _routedKeys;

    /// <summary>Keys with an aggregate in flight.</summary>
    public int InFlightKeys { get; private set; }

    /// <summary>Those keys.</summary>
    public IEnumerable<string> KeysInFlight => _byKey.Where(e => e.Value.InFlight).Select(e => e.Key);

    /// <summary>Whether <paramref name="key"/> has an aggregate in flight.</summary>
    public bool InFlight(string key) => _byKey.TryGetValue(key, out var entry) && entry.InFlight;

    /// <summary>Whether a routed aggregate of <paramref name="key"/> is on its way to its log.</summary>
    public bool IsRouted(string key) => _routedKeys > 0 && _byKey.TryGetValue(key, out var entry) && entry.Routed;

    /// <summary>Records an aggregate of <paramref name="key"/> just sent to its entity, behind the key's earlier ones.</summary>
    public void Add(string key, CounterFastPath.Aggregate aggregate)
    {
        ref var entry = ref CollectionsMarshal.GetValueRefOrAddDefault(_byKey, key, out _);
        Push(ref entry, aggregate);
    }

    /// <summary>
    /// Records an aggregate of <paramref name="key"/> as routed when the key has a route: <paramref name="log"/> is then the
    /// log to send it to. <c>false</c> (nothing recorded) when it has none.
    /// </summary>
    public bool TryRoute(string key, CounterFastPath.Aggregate aggregate, [NotNullWhen(true)] out IActorRef? log)
    {
        ref var entry = ref CollectionsMarshal.GetValueRefOrNullRef(_byKey, key);
        if (Unsafe.IsNullRef(ref entry) || entry.Route is not { } route)
        {
            log = null;
            return false;
        }

        Push(ref entry, aggregate);
        if (!entry.Routed)
        {
            entry.Routed = true;
            _routedKeys++;
        }

        log = route;
        return true;
    }

    /// <summary>Takes the oldest aggregate of <paramref name="key"/> in flight: the one an answer for the key is about.</summary>
    /// <param name="key">The key answered.</param>
    /// <param name="aggregate">Its oldest aggregate in flight.</param>
    /// <param name="wasLast">Whether the key has none in flight any more.</param>
    /// <param name="routeAnswered">Also ends the key's routed aggregate on its way (<see cref="RouteAnswered"/>), in the same lookup.</param>
    /// <returns><c>false</c> when the key has none in flight (not an answer to the fast path).</returns>
    public bool TryTake(string key, out CounterFastPath.Aggregate aggregate, out bool wasLast, bool routeAnswered = false)
    {
        ref var entry = ref CollectionsMarshal.GetValueRefOrNullRef(_byKey, key);
        if (Unsafe.IsNullRef(ref entry))
        {
            aggregate = default;
            wasLast = false;
            return false;
        }

        if (routeAnswered)
            EndRouted(ref entry);
        if (!entry.InFlight)
        {
            aggregate = default;
            wasLast = false;
            RemoveIfEmpty(key, ref entry);
            return false;
        }

        aggregate = entry.First;
        if (entry.More is { Count: > 0 } more)
        {
            entry.First = more.Dequeue();
            wasLast = false;
            return true;
        }

        entry.First = default;
        entry.InFlight = false;
        InFlightKeys--;
        wasLast = true;
        RemoveIfEmpty(key, ref entry);
        return true;
    }

    /// <summary>The routed aggregate of <paramref name="key"/> is answered: commands for the key no longer wait.</summary>
    public void RouteAnswered(string key)
    {
        ref var entry = ref CollectionsMarshal.GetValueRefOrNullRef(_byKey, key);
        if (Unsafe.IsNullRef(ref entry))
            return;
        EndRouted(ref entry);
        RemoveIfEmpty(key, ref entry);
    }

    /// <summary>The key's entity opened a route through <paramref name="log"/>.</summary>
    public void OpenRoute(string key, IActorRef log) =>
        CollectionsMarshal.GetValueRefOrAddDefault(_byKey, key, out _).Route = log;

    /// <summary>The key's route through <paramref name="log"/> is closed (a route through another log stays).</summary>
    public void CloseRoute(string key, IActorRef log)
    {
        ref var entry = ref CollectionsMarshal.GetValueRefOrNullRef(_byKey, key);
        if (Unsafe.IsNullRef(ref entry) || entry.Route is null || !entry.Route.Equals(log))
            return;
        entry.Route = null;
        RemoveIfEmpty(key, ref entry);
    }

    /// <summary>Closes every route through <paramref name="log"/> (it stopped).</summary>
    public void CloseRoutesOf(IActorRef log)
    {
        foreach (var key in _byKey.Where(e => e.Value.Route is { } route && route.Equals(log)).Select(e => e.Key).ToList())
            CloseRoute(key, log);
    }

    /// <summary>Closes every route (the stage drains: it routes nothing more).</summary>
    public void CloseRoutes()
    {
        foreach (var (key, entry) in _byKey.Where(e => e.Value.Route is not null).ToList())
            CloseRoute(key, entry.Route!);
    }

    private void Push(ref Entry entry, CounterFastPath.Aggregate aggregate)
    {
        if (!entry.InFlight)
        {
            entry.First = aggregate;
            entry.InFlight = true;
            InFlightKeys++;
        }
        else
            (entry.More ??= new Queue<CounterFastPath.Aggregate>()).Enqueue(aggregate);
    }

    private void EndRouted(ref Entry entry)
    {
        if (!entry.Routed)
            return;
        entry.Routed = false;
        _routedKeys--;
    }

    // a key keeps its entry while it has a route: the entry is made once per key, not per aggregate
    private void RemoveIfEmpty(string key, ref Entry entry)
    {
        if (entry.Route is null && !entry.InFlight && !entry.Routed)
            _byKey.Remove(key);
    }

    private struct Entry
    {
        public IActorRef? Route;
        public CounterFastPath.Aggregate First;  // the oldest in flight, while InFlight
        public Queue<CounterFastPath.Aggregate>? More; // the newer ones
        public bool InFlight;
        public bool Routed;
    }
}
