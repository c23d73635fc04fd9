
namespace Akka.WriteBehind.Batches;

/// <summary>
/// INTERNAL API
/// <para>
/// The request ids one batch entity remembers for its key: the ids of operations whose batch was saved, with their results,
/// for the idempotency window. Owned by the entity (not thread-safe); every id it holds is counted in the node's
/// <see cref="RequestLedger"/>, which bounds the ids a node remembers.
/// </para>
/// </summary>
internal sealed class RequestMemory(RequestLedger ledger, TimeSpan window)
{
    private readonly Dictionary<string, RememberedRequest> _byId = new(StringComparer.Ordinal);
    private readonly Queue<RememberedRequest> _byAge = new(); // oldest first: expiry takes from the head

    public int Count => _byId.Count;

    public TimeSpan Window { get; } = window;

    /// <summary>The remembered request <paramref name="requestId"/>, unless unknown or older than the window at <paramref name="now"/>.</summary>
    public bool TryRecall(string requestId, DateTime now, out RememberedRequest remembered) =>
        _byId.TryGetValue(requestId, out remembered!) && remembered.At >= now - Window;

    /// <summary>Remembers a request whose slot in the ledger was reserved when its operation ran.</summary>
    public void Remember(RememberedRequest request)
    {
        if (_byId.TryGetValue(request.RequestId, out _))
            ledger.Release(1); // an expired id used again: one entry, one slot
        _byId[request.RequestId] = request;
        _byAge.Enqueue(request);
    }

    /// <summary>Replaces what is remembered with what the store holds (the entity's first load).</summary>
    public void Replace(IReadOnlyList<RememberedRequest> stored)
    {
        Clear();
        foreach (var request in stored.OrderBy(r => r.At))
        {
            if (_byId.ContainsKey(request.RequestId))
                continue;
            _byId[request.RequestId] = request;
            _byAge.Enqueue(request);
        }

        // stored ids are counted but never refused: forgetting them early would apply their repeats again
        ledger.Add(_byId.Count);
    }

    /// <summary>Forgets the requests saved before <paramref name="cutoff"/>.</summary>
    public void Expire(DateTime cutoff)
    {
        while (_byAge.TryPeek(out var oldest) && oldest.At < cutoff)
        {
            _byAge.Dequeue();
            // a later entry for the same id replaced this one: it stays
            if (_byId.TryGetValue(oldest.RequestId, out var current) && ReferenceEquals(current, oldest))
            {
                _byId.Remove(oldest.RequestId);
                ledger.Release(1);
            }
        }
    }

    /// <summary>Forgets everything (the entity stops, or reloads what the store holds).</summary>
    public void Clear()
    {
        ledger.Release(_byId.Count);
        _byId.Clear();
        _byAge.Clear();
    }
}

/// <summary>
/// INTERNAL API: the node-wide count of request ids remembered by the entities of one resource type, and its bound
/// (<c>idempotency.max-remembered</c>). A new id beyond the bound is refused rather than an old one forgotten early.
/// Thread-safe.
/// </summary>
internal sealed class RequestLedger(int maxRemembered)
{
    private long _count;

    public int MaxRemembered { get; } = maxRemembered;

    public long Count => Interlocked.Read(ref _count);

    /// <summary>Takes a slot for a new id: <c>false</c> when <see cref="MaxRemembered"/> ids are held.</summary>
    public bool TryReserve()
    {
        if (Interlocked.Increment(ref _count) <= MaxRemembered)
            return true;
        Interlocked.Decrement(ref _count);
        return false;
    }

    /// <summary>Counts ids taken over from the store (never refused).</summary>
    public void Add(int n) => Interlocked.Add(ref _count, n);

    /// <summary>Gives back <paramref name="n"/> slots.</summary>
    public void Release(int n) => Interlocked.Add(ref _count, -n);
}
