using System.Collections.Concurrent;
using Akka.WriteBehind.Counters;
using Microsoft.Data.Sqlite;

namespace Akka.WriteBehind.Tests.Support;

/// <summary>Counts the row writes per key that reach the inner store.</summary>
internal sealed class CountingStore(ICounterStore inner) : ICounterStore
{
    private readonly ConcurrentDictionary<string, int> _writes = new();
    private int _batches;

    public int Batches => Volatile.Read(ref _batches);

    public int TotalRowWrites => _writes.Values.Sum();

    public int WritesFor(string key) => _writes.GetValueOrDefault(key);

    public Task InitializeAsync(CancellationToken cancellationToken = default) => inner.InitializeAsync(cancellationToken);

    public Task<IReadOnlyDictionary<string, StoredCounter>> ApplyAsync(IReadOnlyList<CounterWrite> writes, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _batches);
        foreach (var write in writes)
            _writes.AddOrUpdate(write.Key, 1, (_, n) => n + 1);
        return inner.ApplyAsync(writes, cancellationToken);
    }

    public Task<IReadOnlyDictionary<string, StoredCounter>> ReadAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken = default) =>
        inner.ReadAsync(keys, cancellationToken);
}

/// <summary>Failure injection: the first <c>failures</c> batches fail, before (or, with <c>commitThenFail</c>, after) reaching the inner store.</summary>
internal sealed class FailingStore(ICounterStore inner, int failures, bool commitThenFail = false) : ICounterStore
{
    private int _remaining = failures;
    private int _failed;

    public int Failed => Volatile.Read(ref _failed);

    public Task InitializeAsync(CancellationToken cancellationToken = default) => inner.InitializeAsync(cancellationToken);

    public async Task<IReadOnlyDictionary<string, StoredCounter>> ApplyAsync(IReadOnlyList<CounterWrite> writes, CancellationToken cancellationToken = default)
    {
        if (Interlocked.Decrement(ref _remaining) < 0)
            return await inner.ApplyAsync(writes, cancellationToken);

        Interlocked.Increment(ref _failed);
        if (commitThenFail)
            await inner.ApplyAsync(writes, cancellationToken); // committed, but the caller never hears of it
        throw new InvalidOperationException("injected store failure");
    }

    public Task<IReadOnlyDictionary<string, StoredCounter>> ReadAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken = default) =>
        inner.ReadAsync(keys, cancellationToken);
}

/// <summary>Failure injection: reads (or writes) wait until <see cref="Open"/> is called, so entities stay loading (or writing).</summary>
internal sealed class GatedStore(ICounterStore inner, bool gateReads = true, bool gateWrites = false) : ICounterStore
{
    private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentQueue<CounterWrite> _writes = new();

    /// <summary>Every write that reached the store, in order.</summary>
    public IReadOnlyList<CounterWrite> Writes => _writes.ToArray();

    public void Open() => _gate.TrySetResult();

    public Task InitializeAsync(CancellationToken cancellationToken = default) => inner.InitializeAsync(cancellationToken);

    public async Task<IReadOnlyDictionary<string, StoredCounter>> ApplyAsync(IReadOnlyList<CounterWrite> writes, CancellationToken cancellationToken = default)
    {
        foreach (var write in writes)
            _writes.Enqueue(write);
        if (gateWrites)
            await _gate.Task.WaitAsync(cancellationToken);
        return await inner.ApplyAsync(writes, cancellationToken);
    }

    public async Task<IReadOnlyDictionary<string, StoredCounter>> ReadAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken = default)
    {
        if (gateReads)
            await _gate.Task.WaitAsync(cancellationToken);
        return await inner.ReadAsync(keys, cancellationToken);
    }
}

/// <summary>Reads a SQLite counters table directly, as an operator would.</summary>
internal static class SqliteTable
{
    public static async Task<Dictionary<string, long>> ReadAllAsync(string databaseFile) =>
        (await ReadRowsAsync(databaseFile)).ToDictionary(kv => kv.Key, kv => kv.Value.Value, StringComparer.Ordinal);

    public static async Task<Dictionary<string, StoredCounter>> ReadRowsAsync(string databaseFile)
    {
        await using var connection = new SqliteConnection($"Data Source={databaseFile};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT key, value, applied_seq FROM counters";
        var result = new Dictionary<string, StoredCounter>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            result[reader.GetString(0)] = new StoredCounter(reader.GetInt64(1), reader.GetInt64(2));
        return result;
    }

    public static async Task<(long Rows, long Sum)> CountAndSumAsync(string databaseFile)
    {
        await using var connection = new SqliteConnection($"Data Source={databaseFile};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*), coalesce(sum(value), 0) FROM counters";
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt64(0), reader.GetInt64(1));
    }
}

/// <summary>
/// Failure injection for a write that a counter left in flight when it stopped: the first write of <c>key</c> is held until
/// a read of the key has read the row (then it commits before that read returns, so the reader holds a row older than the
/// table's), or until the time given to <see cref="ReleaseAfter"/> has passed.
/// </summary>
internal sealed class FirstWriteHeldStore(ICounterStore inner, string key) : ICounterStore
{
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _committed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _held;

    /// <summary>Whether the first write of the key is being held.</summary>
    public bool Holding => Volatile.Read(ref _held) == 1 && !_committed.Task.IsCompleted;

    /// <summary>Lets the held write commit after <paramref name="delay"/> if no read of the key came first.</summary>
    public void ReleaseAfter(TimeSpan delay) =>
        _ = Task.Delay(delay).ContinueWith(_ => _release.TrySetResult(), TaskScheduler.Default);

    public Task InitializeAsync(CancellationToken cancellationToken = default) => inner.InitializeAsync(cancellationToken);

    public async Task<IReadOnlyDictionary<string, StoredCounter>> ApplyAsync(IReadOnlyList<CounterWrite> writes, CancellationToken cancellationToken = default)
    {
        if (!writes.Any(w => w.Key == key) || Interlocked.CompareExchange(ref _held, 1, 0) != 0)
            return await inner.ApplyAsync(writes, cancellationToken);
        await _release.Task.WaitAsync(cancellationToken);
        try
        {
            return await inner.ApplyAsync(writes, cancellationToken);
        }
        finally
        {
            _committed.TrySetResult();
        }
    }

    public async Task<IReadOnlyDictionary<string, StoredCounter>> ReadAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken = default)
    {
        var rows = await inner.ReadAsync(keys, cancellationToken);
        if (keys.Contains(key) && Holding)
        {
            _release.TrySetResult();
            await _committed.Task.WaitAsync(cancellationToken);
        }

        return rows;
    }
}
