using Akka.WriteBehind.Counters;

namespace Akka.WriteBehind.Benchmarks.Systems;

/// <summary>A system that can say how many of its entities are alive (idle-keys: passivation).</summary>
internal interface ILiveEntities
{
    /// <summary>Entities alive now.</summary>
    Task<long> LiveEntitiesAsync();
}

/// <summary>Counts the rows and transactions that reach the real store (and logs their commit times in the latency scenario: <see cref="CommitLog"/>).</summary>
internal sealed class CountingStore(ICounterStore inner) : ICounterStore
{
    private long _rows;
    private long _transactions;

    public long Rows => Interlocked.Read(ref _rows);

    public long Transactions => Interlocked.Read(ref _transactions);

    public Task InitializeAsync(CancellationToken cancellationToken = default) => inner.InitializeAsync(cancellationToken);

    public async Task<IReadOnlyDictionary<string, StoredCounter>> ApplyAsync(IReadOnlyList<CounterWrite> writes, CancellationToken cancellationToken = default)
    {
        var result = await inner.ApplyAsync(writes, cancellationToken).ConfigureAwait(false);
        CommitLog.Current?.Record(writes); // committed: the latency scenario's durable time of these rows
        Interlocked.Add(ref _rows, writes.Count);
        Interlocked.Increment(ref _transactions);
        return result;
    }

    public Task<IReadOnlyDictionary<string, StoredCounter>> ReadAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken = default) =>
        inner.ReadAsync(keys, cancellationToken);
}
