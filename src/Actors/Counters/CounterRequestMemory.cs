using System.Collections.Immutable;
using Akka.WriteBehind.Internal;

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
    private readonly RememberedReplies<bool> _counted;

    public CounterRequestMemory(TimeSpan window, int maxIds) => _counted = new RememberedReplies<bool>(window, maxIds);

    /// <summary>Ids remembered now (expired ones are dropped as time passes).</summary>
    public int Count => _counted.Count;

    /// <summary>Whether <paramref name="id"/> was counted within the window.</summary>
    public bool Contains(string id, long nowMs) => _counted.TryGet(id, nowMs, out _);

    /// <summary>Remembers that the increments of <paramref name="requests"/> were counted.</summary>
    public void Remember(ImmutableArray<RequestDelta> requests, long nowMs)
    {
        if (requests.IsDefaultOrEmpty)
            return;
        foreach (var request in requests)
            _counted.Remember(request.Id, true, nowMs);
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
}
