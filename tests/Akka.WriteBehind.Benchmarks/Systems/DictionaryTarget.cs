using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Akka.WriteBehind.Counters;

namespace Akka.WriteBehind.Benchmarks.Systems;

/// <summary>
/// The in-process upper bound: a <see cref="ConcurrentDictionary{TKey,TValue}"/> of per-key sums, and a timer that swaps each
/// sum for zero every flush interval and writes the swapped deltas through the same SQLite upsert as the library
/// (<see cref="SqliteCounterStore"/>, 500 keys per transaction like the library's store writer). No actors, no sharding, no
/// journal, no flow control: what is left is the dictionary and the SQL.
/// </summary>
internal sealed class DictionaryTarget : IBenchTarget
{
    private const int RowsPerTransaction = 500;

    private readonly ConcurrentDictionary<string, StrongBox<long>> _sums = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private CountingStore? _store;
    private Task _flusher = Task.CompletedTask;
    private long _seq;

    public long RowsWritten => _store?.Rows ?? 0;

    public async Task StartAsync(string dbFile, Scenario scenario, string[] keys)
    {
        _store = new CountingStore(new SqliteCounterStore($"Data Source={dbFile}"));
        await _store.InitializeAsync();
        _flusher = FlushLoopAsync(scenario.FlushInterval);
    }

    public Task<SendResult> SendAsync(string[] keys, int[] sequence, Pacer pacer, TimeSpan cap)
    {
        for (var i = 0; i < sequence.Length; i++)
        {
            pacer.Wait(i);
            var sum = _sums.GetOrAdd(keys[sequence[i]], static _ => new StrongBox<long>());
            Interlocked.Increment(ref sum.Value);
        }

        return Task.FromResult(new SendResult(sequence.Length, sequence.Length, 0));
    }

    private async Task FlushLoopAsync(TimeSpan interval)
    {
        using var timer = new PeriodicTimer(interval);
        while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
        {
            // one sequence number per flush: increasing per key, as the store's idempotence check requires
            var seq = ++_seq;
            var writes = new List<CounterWrite>();
            foreach (var (key, sum) in _sums)
            {
                var delta = Interlocked.Exchange(ref sum.Value, 0);
                if (delta != 0)
                    writes.Add(new CounterWrite(key, delta, seq));
            }

            foreach (var chunk in writes.Chunk(RowsPerTransaction))
                await _store!.ApplyAsync(chunk).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _flusher;
        }
        catch (OperationCanceledException)
        {
            // stopped on purpose
        }

        _stop.Dispose();
    }
}
