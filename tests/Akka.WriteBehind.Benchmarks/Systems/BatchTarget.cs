using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Akka.Actor;
using Akka.Configuration;
using Akka.WriteBehind.Batches;
using Akka.WriteBehind.Samples.Accounts;
using Microsoft.Data.Sqlite;

namespace Akka.WriteBehind.Benchmarks.Systems;

/// <summary>A system whose durable total is read from its own store (not the counters table the other rounds poll).</summary>
internal interface IOwnTotal
{
    /// <summary>The sum of everything stored, read from the store itself.</summary>
    Task<long> StoredTotalAsync();
}

/// <summary>Operations and batches measured by a batch target.</summary>
internal interface IBatchCounts
{
    /// <summary>Batches finished (the library's <c>akka.write_behind.batches.finished</c> counter).</summary>
    long Batches { get; }

    /// <summary>Failed operations per error code with one message each, for the round's error when the total is wrong.</summary>
    string FailureSummary { get; }

    /// <summary>Every operation's latency from its intended send time to its answer (set by the round's send).</summary>
    LatencyLog? Latencies { get; }

    /// <summary>The p99 of the library's <c>akka.write_behind.batches.save_duration</c> over the round, ms; <c>null</c>: no save.</summary>
    double? SaveP99Ms { get; }

    /// <summary>Forgets the warm-up's batches, saves and failures, so the round's figures count its measured operations only.</summary>
    void ResetCounts();
}

/// <summary>
/// The Batches API as users use it: a one-node cluster, the accounts sample (<see cref="AccountOperations"/>) started by
/// <see cref="WriteBehindBatches.StartAsync{TResource}(ActorSystem, string, IResourceStore{TResource}, OperationHandler{TResource})"/>,
/// and <see cref="Deposit"/>(1) per increment through <see cref="BatchProcessor{TResource}.RunAsync{TResult}(string, IBatchOperation{TResult}, CancellationToken)"/>,
/// <c>--in-flight</c> at once (default 1,000; each returns once its batch is saved). Store: <see cref="SqliteAccountStore"/> on the round's file, or
/// an in-memory store (<see cref="MemoryAccountStore"/>) that shows the library's own cost.
/// </summary>
internal sealed class BatchTarget(bool sqlite) : IBenchTarget, IOwnTotal, IBatchCounts
{
    public const string Memory = "batches-memory";
    public const string Sqlite = "batches-sqlite";

    public static readonly IReadOnlyDictionary<string, string> Descriptions = new Dictionary<string, string>
    {
        [Memory] = "Akka.WriteBehind Batches, accounts sample, Deposit(1) per operation, --in-flight RunAsync at once (default 1,000), in-memory store",
        [Sqlite] = "the same with SqliteAccountStore (optimistic version check, bulk load and save) on a SQLite file",
        [WriteThroughOpsTarget.Name] = WriteThroughOpsTarget.Description,
    };

    private ActorSystem? _system;
    private BatchProcessor<Account>? _processor;
    private IResourceStore<Account>? _store;
    private string? _dbFile;
    private MeterListener? _listener;
    private long _batches;
    private int _window = 1_000;
    private readonly ConcurrentDictionary<ErrorCode, (long Count, string Message)> _failures = new();

    public string FailureSummary => string.Join("; ", _failures.Select(f => $"{f.Value.Count} × {f.Key} (\"{f.Value.Message}\")"));

    public static IBenchTarget? TryCreate(string name) => name switch
    {
        Memory => new BatchTarget(sqlite: false),
        Sqlite => new BatchTarget(sqlite: true),
        _ => null,
    };

    public long RowsWritten => 0;

    public long Batches => Interlocked.Read(ref _batches);

    public LatencyLog? Latencies { get; private set; }

    private readonly HdrHistogram.LongHistogram _saves = new(TimeSpan.FromMinutes(10).Ticks / 10, 3);

    public double? SaveP99Ms
    {
        get
        {
            lock (_saves)
                return _saves.TotalCount == 0 ? null : _saves.GetValueAtPercentile(99) / 1000.0;
        }
    }

    public async Task StartAsync(string dbFile, Scenario scenario, string[] keys)
    {
        // max-duration 5 s instead of auto (2 x min-duration = 200 ms): on a loaded machine SQLite saves pass 200 ms and such
        // batches fail with Timeout; the scenario measures throughput of batches that complete, not the deadline. (This
        // scenario found that a save committing after max-duration was answered "nothing kept"; the entity now waits for
        // the store's answer, see BatchMaxDurationSpec.)
        _window = scenario.InFlight;
        var config = ConfigurationFactory.ParseString(scenario.BatchConfig is { } extra ? $"akka.write-behind.batches {{ {extra} }}" : "")
            // every operation in flight may be one key's load or save waiting in the node's queues: size them for it
            .WithFallback(ConfigurationFactory.ParseString($$"""
                akka.write-behind.batches { max-in-flight = {{Math.Max(10_000, _window)}}, save-many.buffer-size = {{Math.Max(10_000, _window + 1_000)}} }
                """))
            .WithFallback(ConfigurationFactory.ParseString("""
                akka.write-behind.batches.max-duration = 5s
                akka.loglevel = WARNING
                akka.stdout-loglevel = WARNING
                akka.actor.provider = cluster
                akka.remote.dot-netty.tcp { hostname = "127.0.0.1", port = 0 }
                akka.cluster.sharding.state-store-mode = ddata
                akka.coordinated-shutdown.run-by-clr-shutdown-hook = off
                """))
            .WithFallback(WriteBehindConfig.DefaultConfig());
        _system = ActorSystem.Create("bench", config);
        var cluster = Akka.Cluster.Cluster.Get(_system);
        await cluster.JoinAsync(cluster.SelfAddress);
        _dbFile = dbFile;
        _store = sqlite ? new SqliteAccountStore($"Data Source={dbFile}") : new MemoryAccountStore();
        _processor = await WriteBehindBatches.StartAsync(_system, AccountOperations.TypeName, _store, AccountOperations.Instance);

        // one operation (outside the bench: prefix) so the node's start-up is not in any round, --cold included: the first
        // operation waits for the shard coordinator and the region's first allocation. The JIT and tier-up are warmed by the
        // round's warm-up on other keys (Round.WarmUpOnOtherKeysAsync), which --cold turns off.
        await _processor.RunAsync("warmup", new Deposit(1));

        _listener = new MeterListener();
        _listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == WriteBehindBatches.MeterName && instrument.Name is "akka.write_behind.batches.finished" or "akka.write_behind.batches.save_duration")
                l.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref _batches, value));
        // one measurement per saved batch: the "one save" of the latency target, as the library itself reports it
        _listener.SetMeasurementEventCallback<double>((_, seconds, _, _) =>
        {
            lock (_saves)
                _saves.RecordValue(Math.Max(1, (long)(seconds * 1_000_000)));
        });
        _listener.Start();
    }

    public void ResetCounts()
    {
        Interlocked.Exchange(ref _batches, 0);
        lock (_saves)
            _saves.Reset();
        _failures.Clear();
    }

    public async Task<SendResult> SendAsync(string[] keys, int[] sequence, Pacer pacer, TimeSpan cap)
    {
        Latencies = new LatencyLog(sequence.Length);
        var counts = new Counts();
        if (pacer.IsOpenLoop)
            await SendPacedAsync(keys, sequence, pacer, counts);
        else
        {
            // closed loop as a careful user writes it: --in-flight callers, each awaiting RunAsync and then taking the next
            // operation (no continuation, closure or semaphore per operation on top of the library's own cost)
            var next = -1;
            var callers = new Task[Math.Min(_window, sequence.Length)];
            for (var c = 0; c < callers.Length; c++)
                callers[c] = CallerAsync();
            await Task.WhenAll(callers);

            async Task CallerAsync()
            {
                await Task.Yield();
                var deposit = new Deposit(1);
                int i;
                while ((i = Interlocked.Increment(ref next)) < sequence.Length)
                {
                    pacer.Wait(i);
                    var sent = pacer.Elapsed;
                    try
                    {
                        await _processor!.RunAsync(keys[sequence[i]], deposit);
                        Interlocked.Increment(ref counts.Accepted);
                    }
                    catch (Exception e)
                    {
                        Count(counts, e);
                    }

                    Latencies.Record(i, pacer.Elapsed - sent);
                }
            }
        }

        if (counts.Failed > 0)
            throw new InvalidOperationException($"{counts.Failed} operations failed (outcome unknown or batch failed): {counts.FirstFailure?.GetBaseException().Message}");
        return new SendResult(sequence.Length, counts.Accepted, counts.Rejected);
    }

    /// <summary>Open loop: each operation sent at its intended time, whatever is in flight, up to the window.</summary>
    private async Task SendPacedAsync(string[] keys, int[] sequence, Pacer pacer, Counts counts)
    {
        var latencies = Latencies!;
        using var window = new SemaphoreSlim(_window, _window);
        var deposit = new Deposit(1);
        for (var i = 0; i < sequence.Length; i++)
        {
            pacer.Wait(i);
            await window.WaitAsync();
            var index = i;
            var intended = pacer.Intended(i);
            _ = _processor!.RunAsync(keys[sequence[i]], deposit).ContinueWith(t =>
            {
                latencies.Record(index, pacer.Elapsed - intended);
                if (t.IsCompletedSuccessfully)
                    Interlocked.Increment(ref counts.Accepted);
                else
                    Count(counts, t.Exception!);
                window.Release();
            }, TaskContinuationOptions.ExecuteSynchronously);
        }

        for (var i = 0; i < _window; i++)
            await window.WaitAsync();
    }

    private void Count(Counts counts, Exception e)
    {
        // typed answers that keep nothing of the operation: refused by the handler, a full queue, or its batch failed
        // (past max-duration or the store failed: "nothing of it is kept"); the stored total is verified against
        // the successes, so an operation kept despite its failure answer fails the round
        if (e.GetBaseException() is BatchOperationException { IsRejection: true } or BatchOperationException { Code: ErrorCode.Saturated or ErrorCode.Timeout or ErrorCode.StoreFailure or ErrorCode.Cancelled })
        {
            Interlocked.Increment(ref counts.Rejected);
            var failure = (BatchOperationException)e.GetBaseException();
            _failures.AddOrUpdate(failure.Code, (1, failure.Message), (_, f) => (f.Count + 1, f.Message));
        }
        else
        {
            Interlocked.Increment(ref counts.Failed);
            Interlocked.CompareExchange(ref counts.FirstFailure, e, null);
        }
    }

    private sealed class Counts
    {
        public long Accepted;
        public long Rejected;
        public long Failed;
        public Exception? FirstFailure;
    }

    public async Task<long> StoredTotalAsync()
    {
        if (_store is MemoryAccountStore memory)
            return memory.Total("bench:");
        await using var connection = new SqliteConnection($"Data Source={_dbFile};Mode=ReadOnly");
        await connection.OpenAsync();
        await using var sum = connection.CreateCommand();
        sum.CommandText = "SELECT COALESCE(SUM(balance), 0) FROM accounts WHERE key LIKE 'bench:%'";
        return (long)(await sum.ExecuteScalarAsync())!;
    }

    public async ValueTask DisposeAsync()
    {
        _listener?.Dispose();
        if (_system is not null)
            await _system.Terminate().WaitAsync(TimeSpan.FromSeconds(30));
    }
}

/// <summary>Accounts in a dictionary, with the SQLite store's version check: the Batches API's cost without a database.</summary>
internal sealed class MemoryAccountStore : IBulkResourceStore<Account>
{
    private readonly ConcurrentDictionary<string, Account> _accounts = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    public Task InitializeAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

    public Task<Account> LoadAsync(string key, CancellationToken cancellationToken) =>
        Task.FromResult(_accounts.GetValueOrDefault(key, Account.Empty));

    public async Task<Account> SaveAsync(string key, Account resource, CancellationToken cancellationToken) =>
        (await SaveManyAsync(new Dictionary<string, Account>(StringComparer.Ordinal) { [key] = resource }, cancellationToken))[key];

    public Task<IReadOnlyDictionary<string, Account>> SaveManyAsync(IReadOnlyDictionary<string, Account> resources, CancellationToken cancellationToken)
    {
        var stored = new Dictionary<string, Account>(resources.Count, StringComparer.Ordinal);
        lock (_gate)
        {
            foreach (var (key, account) in resources)
            {
                if (_accounts.GetValueOrDefault(key, Account.Empty).Version != account.Version)
                    throw new System.Data.DBConcurrencyException($"account {key}: version {account.Version} is not the stored one");
            }

            foreach (var (key, account) in resources)
                _accounts[key] = stored[key] = account with { Version = account.Version + 1 };
        }

        return Task.FromResult<IReadOnlyDictionary<string, Account>>(stored);
    }

    public long Total(string prefix) => _accounts.Where(a => a.Key.StartsWith(prefix, StringComparison.Ordinal)).Sum(a => a.Value.Balance);
}
