namespace Akka.WriteBehind.Storage;

/// <summary>
/// An <see cref="ICounterStore"/> in process memory, with the same semantics as the SQL store (sequence-number guard, atomic
/// batches). For tests and for applications that only want the coalescing.
/// </summary>
public sealed class InMemoryCounterStore : ICounterStore
{
    private readonly Dictionary<string, StoredCounter> _rows = new(StringComparer.Ordinal);
    private readonly object _lock = new();

    /// <inheritdoc />
    public Task InitializeAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

    /// <inheritdoc />
    public Task<IReadOnlyDictionary<string, StoredCounter>> ApplyAsync(IReadOnlyList<CounterWrite> writes, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            // compute first so that an overflow leaves the whole batch unapplied, as a failed transaction would
            var updated = new Dictionary<string, StoredCounter>(writes.Count, StringComparer.Ordinal);
            foreach (var write in writes)
            {
                var current = updated.TryGetValue(write.Key, out var u) ? u : _rows.GetValueOrDefault(write.Key, StoredCounter.Empty);
                updated[write.Key] = current.AppliedSeq < write.Seq
                    ? new StoredCounter(checked(current.Value + write.Delta), write.Seq)
                    : current;
            }

            foreach (var (key, value) in updated)
                _rows[key] = value;

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

    /// <summary>A snapshot of every stored value.</summary>
    public IReadOnlyDictionary<string, long> Snapshot()
    {
        lock (_lock)
            return _rows.ToDictionary(kv => kv.Key, kv => kv.Value.Value, StringComparer.Ordinal);
    }
}
