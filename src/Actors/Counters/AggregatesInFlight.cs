using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Akka.WriteBehind.Counters;

/// <summary>
/// INTERNAL API
/// <para>
/// The fast path's aggregates the ingest stage sent to their entities and has not heard back about, per key, oldest first
/// (an entity answers a key's aggregates in the order they were sent). A timed drain sends at most one per key, so the first
/// of a key is held in the dictionary's entry itself and only a key with more (a read drained it meanwhile) gets a queue: a
/// queue made per key per drain was the acknowledged path's largest allocation.
/// </para>
/// </summary>
internal sealed class AggregatesInFlight
{
    private readonly Dictionary<string, Entry> _byKey = new(StringComparer.Ordinal);

    /// <summary>Keys with an aggregate in flight.</summary>
    public int Count => _byKey.Count;

    /// <summary>Those keys.</summary>
    public IEnumerable<string> Keys => _byKey.Keys;

    /// <summary>Whether <paramref name="key"/> has an aggregate in flight.</summary>
    public bool Contains(string key) => _byKey.ContainsKey(key);

    /// <summary>Records an aggregate of <paramref name="key"/> just sent, behind the key's earlier ones.</summary>
    public void Add(string key, CounterFastPath.Aggregate aggregate)
    {
        ref var entry = ref CollectionsMarshal.GetValueRefOrAddDefault(_byKey, key, out var exists);
        if (!exists)
            entry.First = aggregate;
        else
            (entry.More ??= new Queue<CounterFastPath.Aggregate>()).Enqueue(aggregate);
    }

    /// <summary>Takes the oldest aggregate of <paramref name="key"/> in flight: the one an answer for the key is about.</summary>
    /// <param name="key">The key answered.</param>
    /// <param name="aggregate">Its oldest aggregate in flight.</param>
    /// <param name="wasLast">Whether the key has none in flight any more.</param>
    /// <returns><c>false</c> when the key has none in flight (not an answer to the fast path).</returns>
    public bool TryTake(string key, out CounterFastPath.Aggregate aggregate, out bool wasLast)
    {
        ref var entry = ref CollectionsMarshal.GetValueRefOrNullRef(_byKey, key);
        if (Unsafe.IsNullRef(ref entry))
        {
            aggregate = default;
            wasLast = false;
            return false;
        }

        aggregate = entry.First;
        if (entry.More is { Count: > 0 } more)
        {
            entry.First = more.Dequeue();
            wasLast = false;
            return true;
        }

        _byKey.Remove(key);
        wasLast = true;
        return true;
    }

    private struct Entry
    {
        public CounterFastPath.Aggregate First;
        public Queue<CounterFastPath.Aggregate>? More;
    }
}
