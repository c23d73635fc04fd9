using System.Collections.Immutable;

namespace Akka.WriteBehind.Counters;

/// <summary>
/// INTERNAL API
/// <para>
/// The request ids one counter has counted, so that a repeat is left out before it reaches the pending sum: each id for the
/// idempotency window after it was counted, at most the newest <c>max-ids</c>. Forgetting early is safe — the store
/// recognises a repeat of a recorded id when it is written — it only lets a read count the repeat until the next flush.
/// </para>
/// </summary>
internal sealed class CounterRequestMemory
{
    private readonly long _windowMs;
    private readonly int _maxIds;
    private readonly Dictionary<string, long> _expiresAt = new(StringComparer.Ordinal);
    private readonly Queue<(string Id, long ExpiresAt)> _byAge = new();

    public CounterRequestMemory(TimeSpan window, int maxIds)
    {
        _windowMs = (long)window.TotalMilliseconds;
        _maxIds = maxIds;
    }

    /// <summary>Ids remembered now (expired ones are dropped as time passes).</summary>
    public int Count => _expiresAt.Count;

    /// <summary>Whether <paramref name="id"/> was counted within the window.</summary>
    public bool Contains(string id, long nowMs) => _expiresAt.TryGetValue(id, out var expiresAt) && expiresAt > nowMs;

    /// <summary>Remembers that the increments of <paramref name="requests"/> were counted.</summary>
    public void Remember(ImmutableArray<RequestDelta> requests, long nowMs)
    {
        if (requests.IsDefaultOrEmpty)
            return;
        var expiresAt = nowMs + _windowMs;
        foreach (var request in requests)
        {
            _expiresAt[request.Id] = expiresAt;
            _byAge.Enqueue((request.Id, expiresAt));
        }

        Prune(nowMs);
    }

    /// <summary>
    /// Splits an aggregate into what to count: its delta without the increments whose id was counted already (or that repeat an
    /// id earlier in <paramref name="requests"/>), and the requests that are new.
    /// </summary>
    /// <returns><c>false</c> when the delta without the repeats leaves the 64-bit range (the aggregate is refused).</returns>
    public bool TryFilter(long delta, ImmutableArray<RequestDelta> requests, long nowMs, out long counted, out ImmutableArray<RequestDelta> fresh)
    {
        Int128 sum = delta;
        var builder = ImmutableArray.CreateBuilder<RequestDelta>(requests.Length);
        HashSet<string>? inThis = requests.Length > 1 ? new HashSet<string>(StringComparer.Ordinal) : null;
        foreach (var request in requests)
        {
            if (Contains(request.Id, nowMs) || (inThis is not null && !inThis.Add(request.Id)))
                sum -= request.Delta;
            else
                builder.Add(request);
        }

        fresh = builder.Count == builder.Capacity ? builder.MoveToImmutable() : builder.ToImmutable();
        counted = sum >= long.MinValue && sum <= long.MaxValue ? (long)sum : 0;
        return sum >= long.MinValue && sum <= long.MaxValue;
    }

    private void Prune(long nowMs)
    {
        while (_byAge.TryPeek(out var oldest) && (oldest.ExpiresAt <= nowMs || _expiresAt.Count > _maxIds))
        {
            _byAge.Dequeue();
            // a later Remember of the same id renewed it: only the entry of its newest expiry removes it
            if (_expiresAt.TryGetValue(oldest.Id, out var expiresAt) && expiresAt == oldest.ExpiresAt)
                _expiresAt.Remove(oldest.Id);
        }
    }
}
