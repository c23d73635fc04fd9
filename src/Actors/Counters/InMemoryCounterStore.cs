namespace Akka.WriteBehind.Counters;

/// <summary>
/// An <see cref="ICounterStore"/> in process memory, with the same semantics as the SQL store (sequence-number guard, atomic
/// batches). For tests and for applications that only want the coalescing.
/// </summary>
public sealed class InMemoryCounterStore : ICounterStore
{
    private readonly Dictionary<string, StoredCounter> _rows = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Key, string Id), DateTimeOffset> _requests = new();
    private readonly object _lock = new();

    /// <inheritdoc />
    public Task InitializeAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

    /// <inheritdoc />
    public Task<IReadOnlyDictionary<string, StoredCounter>> ApplyAsync(IReadOnlyList<CounterWrite> writes, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            IReadOnlyList<CounterWrite> ordered = writes.DistinctBy(w => (w.Key, w.Seq)).OrderBy(w => w.Key, StringComparer.Ordinal).ThenBy(w => w.Seq).ToArray();
            var recorded = new List<((string, string) Id, DateTimeOffset ExpiresAt)>();
            if (ordered.Any(w => w.Requests is { Count: > 0 }))
            {
                var now = DateTimeOffset.UtcNow;
                var appliedSeq = ordered.Select(w => w.Key).Distinct(StringComparer.Ordinal)
                    .ToDictionary(k => k, k => _rows.GetValueOrDefault(k, StoredCounter.Empty).AppliedSeq, StringComparer.Ordinal);
                foreach (var (key, request) in CounterRequests.ToRecord(ordered, appliedSeq))
                    if (!_requests.TryGetValue((key, request.Id), out var expiresAt) || expiresAt < now)
                        recorded.Add(((key, request.Id), request.ExpiresAt));
                ordered = CounterRequests.Adjust(ordered, appliedSeq, recorded.Select(r => r.Id).ToHashSet());
            }

            // compute first so that an overflow leaves the whole batch unapplied, as a failed transaction would
            var updated = new Dictionary<string, StoredCounter>(writes.Count, StringComparer.Ordinal);
            foreach (var write in ordered)
            {
                var current = updated.TryGetValue(write.Key, out var u) ? u : _rows.GetValueOrDefault(write.Key, StoredCounter.Empty);
                updated[write.Key] = current.AppliedSeq < write.Seq
                    ? new StoredCounter(checked(current.Value + write.Delta), write.Seq)
                    : current;
            }

            foreach (var (key, value) in updated)
                _rows[key] = value;
            foreach (var (id, expiresAt) in recorded)
                _requests[id] = expiresAt;

            return Task.FromResult<IReadOnlyDictionary<string, StoredCounter>>(updated);
        }
    }

    /// <inheritdoc />
    public Task<IReadOnlyDictionary<string, StoredCounter>> ReadAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            var result = new Dictionary<string, StoredCounter>(keys.Count, StringComparer.Ordinal);
            foreach (var key in keys)
                result[key] = _rows.GetValueOrDefault(key, StoredCounter.Empty);
            return Task.FromResult<IReadOnlyDictionary<string, StoredCounter>>(result);
        }
    }

    /// <inheritdoc />
    public Task<int> DeleteExpiredRequestsAsync(DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            var expired = _requests.Where(r => r.Value < now).Select(r => r.Key).ToList();
            foreach (var id in expired)
                _requests.Remove(id);
            return Task.FromResult(expired.Count);
        }
    }

    /// <summary>A snapshot of every stored value.</summary>
    public IReadOnlyDictionary<string, long> Snapshot()
    {
        lock (_lock)
            return _rows.ToDictionary(kv => kv.Key, kv => kv.Value.Value, StringComparer.Ordinal);
    }
}
