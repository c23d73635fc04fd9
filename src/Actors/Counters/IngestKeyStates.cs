using System.Diagnostics.CodeAnalysis;
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
/// <para>
/// The key's fast-path cell keeps a reference to its entry (<see cref="CounterFastPath.Cell.Stage"/>), and a routed batch
/// keeps the entries of its keys, so the drain, the route and the answer of a routed aggregate find the entry without a
/// lookup: the three lookups per acknowledged increment took about 7 % of a node's samples in a profile under load. An
/// entry leaves the dictionary only through <see cref="RemoveIfEmpty"/>, which marks it removed, so a kept reference that
/// is not marked and names the key is the key's entry. Removed entries are reused (a key without a route gets and loses
/// one per aggregate), up to <see cref="MaxSpare"/>.
/// </para>
/// </summary>
internal sealed class IngestKeyStates
{
    /// <summary>Removed entries kept for reuse at most.</summary>
    internal const int MaxSpare = 1024;

    private readonly Dictionary<string, KeyState> _byKey = new(StringComparer.Ordinal);
    private readonly Stack<KeyState> _spare = new();
    private int _routedKeys;

    /// <summary>Keys with an aggregate in flight.</summary>
    public int InFlightKeys { get; private set; }

    /// <summary>Those keys.</summary>
    public IEnumerable<string> KeysInFlight => _byKey.Where(e => e.Value.InFlight).Select(e => e.Key);

    /// <summary>Whether <paramref name="key"/> has an aggregate in flight.</summary>
    public bool InFlight(string key) => _byKey.TryGetValue(key, out var entry) && entry.InFlight;

    /// <summary>Whether the key of <paramref name="cell"/> has an aggregate in flight (its entry found through the cell).</summary>
    public bool InFlight(CounterFastPath.Cell cell) => Of(cell) is { InFlight: true };

    /// <summary>Whether a routed aggregate of <paramref name="key"/> is on its way to its log.</summary>
    public bool IsRouted(string key) => _routedKeys > 0 && _byKey.TryGetValue(key, out var entry) && entry.Routed;

    /// <summary>Records an aggregate of <paramref name="key"/> just sent to its entity, behind the key's earlier ones.</summary>
    public void Add(string key, CounterFastPath.Aggregate aggregate) => Push(GetOrAdd(key), aggregate);

    /// <summary>
    /// Records an aggregate of <paramref name="key"/> as routed when the key has a route: <paramref name="log"/> is then the
    /// log to send it to. <c>false</c> (nothing recorded) when it has none.
    /// </summary>
    public bool TryRoute(string key, CounterFastPath.Aggregate aggregate, [NotNullWhen(true)] out IActorRef? log) =>
        TryRoute(key, aggregate, out log, out _, out _);

    /// <summary>
    /// <see cref="TryRoute(string, CounterFastPath.Aggregate, out IActorRef?)"/>, with the key's entry (for
    /// <see cref="TryTake(KeyState, string, out CounterFastPath.Aggregate, out bool, bool)"/> at the answer) and the log's token for
    /// the route (<see cref="OpenRoute"/>); the entry is found through the aggregate's cell when it has one.
    /// </summary>
    public bool TryRoute(string key, CounterFastPath.Aggregate aggregate, [NotNullWhen(true)] out IActorRef? log,
        [NotNullWhen(true)] out KeyState? entry, out object? routeToken)
    {
        entry = aggregate.Source is { } cell ? Of(cell) : _byKey.GetValueOrDefault(key);
        if (entry?.Route is not { } route)
        {
            log = null;
            entry = null;
            routeToken = null;
            return false;
        }

        Push(entry, aggregate);
        if (!entry.Routed)
        {
            entry.Routed = true;
            _routedKeys++;
        }

        log = route;
        routeToken = entry.RouteToken;
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
        if (_byKey.GetValueOrDefault(key) is { } entry)
            return TryTake(entry, key, out aggregate, out wasLast, routeAnswered);
        aggregate = default;
        wasLast = false;
        return false;
    }

    /// <summary>
    /// <see cref="TryTake(string, out CounterFastPath.Aggregate, out bool, bool)"/> through an entry kept since the key's
    /// aggregate was routed (<see cref="TryRoute(string, CounterFastPath.Aggregate, out IActorRef?, out KeyState?, out object?)"/>).
    /// </summary>
    public bool TryTake(KeyState entry, string key, out CounterFastPath.Aggregate aggregate, out bool wasLast, bool routeAnswered = false)
    {
        if (!IsEntryOf(entry, key))
            return TryTake(key, out aggregate, out wasLast, routeAnswered);
        if (routeAnswered)
            EndRouted(entry);
        if (!entry.InFlight)
        {
            aggregate = default;
            wasLast = false;
            RemoveIfEmpty(entry);
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
        RemoveIfEmpty(entry);
        return true;
    }

    /// <summary>The routed aggregate of <paramref name="key"/> is answered: commands for the key no longer wait.</summary>
    public void RouteAnswered(string key)
    {
        if (_byKey.GetValueOrDefault(key) is not { } entry)
            return;
        EndRouted(entry);
        RemoveIfEmpty(entry);
    }

    /// <summary>
    /// The key's entity opened a route through <paramref name="log"/>; <paramref name="routeToken"/> is the log's own
    /// reference to it, handed back with each routed aggregate so that the log finds the route without a lookup (this stage
    /// never reads it).
    /// </summary>
    public void OpenRoute(string key, IActorRef log, object? routeToken = null)
    {
        var entry = GetOrAdd(key);
        entry.Route = log;
        entry.RouteToken = routeToken;
    }

    /// <summary>The key's route through <paramref name="log"/> is closed (a route through another log stays).</summary>
    public void CloseRoute(string key, IActorRef log)
    {
        if (_byKey.GetValueOrDefault(key) is not { Route: { } route } entry || !route.Equals(log))
            return;
        entry.Route = null;
        entry.RouteToken = null;
        RemoveIfEmpty(entry);
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

    /// <summary>The entry of the cell's key, through the reference the cell keeps while it is the key's entry.</summary>
    private KeyState? Of(CounterFastPath.Cell cell)
    {
        if (cell.Stage is { } kept && IsEntryOf(kept, cell.Key))
            return kept;
        var entry = _byKey.GetValueOrDefault(cell.Key);
        cell.Stage = entry;
        return entry;
    }

    private static bool IsEntryOf(KeyState entry, string key) => !entry.Removed && string.Equals(entry.Key, key, StringComparison.Ordinal);

    private KeyState GetOrAdd(string key)
    {
        ref var entry = ref CollectionsMarshal.GetValueRefOrAddDefault(_byKey, key, out _);
        if (entry is not null)
            return entry;
        if (_spare.TryPop(out var spare))
        {
            spare.Key = key;
            spare.Removed = false;
            return entry = spare;
        }

        return entry = new KeyState(key);
    }

    private void Push(KeyState entry, CounterFastPath.Aggregate aggregate)
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

    private void EndRouted(KeyState entry)
    {
        if (!entry.Routed)
            return;
        entry.Routed = false;
        _routedKeys--;
    }

    // a key keeps its entry while it has a route: the entry is made once per key, not per aggregate
    private void RemoveIfEmpty(KeyState entry)
    {
        if (entry.Route is not null || entry.InFlight || entry.Routed)
            return;
        entry.Removed = true; // references kept to it (a cell's, a routed batch's) look the key up again
        _byKey.Remove(entry.Key);
        entry.First = default;
        entry.More = null;
        if (_spare.Count < MaxSpare)
            _spare.Push(entry);
    }

    /// <summary>INTERNAL API: one key's entry.</summary>
    internal sealed class KeyState(string key)
    {
        public string Key = key;                        // another key's once reused
        public IActorRef? Route;
        public object? RouteToken;                      // the log's reference to the route, handed back to it
        public CounterFastPath.Aggregate First;         // the oldest in flight, while InFlight
        public Queue<CounterFastPath.Aggregate>? More;  // the newer ones
        public bool InFlight;
        public bool Routed;
        public bool Removed;                            // no longer in the dictionary
    }
}
