using System.Diagnostics;
using System.Globalization;
using Akka.Actor;
using Akka.Configuration;
using Akka.WriteBehind.Counters;
using Microsoft.Data.Sqlite;

namespace Akka.WriteBehind.Benchmarks;

/// <summary>
/// The <c>recovery</c> scenario (entity activation and recovery rate): a node with journal durability on SQLite
/// takes <see cref="Scenarios.RecoveryIncrementsPerKey"/> acknowledged increments (IncrementAsync, 10,000 in flight) on each of K keys
/// with a flush interval of an hour, so every key holds undeleted journal events and nothing is in the counters table; it
/// then crashes (the actor system terminates without CoordinatedShutdown, as in CounterJournalCrashSpec). A fresh actor
/// system starts on the same files and recovers the keys: <see cref="BenchSystems.RecoverySweep"/> without any caller (the
/// journal sweep wakes the shard logs, each replays once and wakes its keys), <see cref="BenchSystems.RecoveryGet"/> with GetCounter over every key as well. Measured: time
/// until the counters table holds every key's total (recovered keys/s) and, with the caller, until every GetCounter answered.
/// Verified per key: acknowledged ≤ stored ≤ sent, and every GetCounter's total the same.
/// </summary>
internal static class RecoveryRound
{
    private const int AskWindow = 1_000;

    private const int WriteWindow = 10_000;

    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(60);

    private static readonly TimeSpan RecoveryTimeout = TimeSpan.FromSeconds(180);

    public static async Task<RoundResult> RunAsync(Scenario scenario, string system, string dbFile, RoundResult result)
    {
        var keys = Scenarios.KeyNames(scenario.Keys);
        var journalFile = Systems.OursNode.JournalFile(dbFile);
        var withCaller = system == BenchSystems.RecoveryGet;

        // node 1: acknowledged increments, journaled, never flushed; then the crash
        var sent = new long[keys.Length];
        var acked = new long[keys.Length];
        var write = Stopwatch.StartNew();
        var node1 = await StartAsync(dbFile, journalFile, scenario, TimeSpan.FromHours(1));
        try
        {
            await IncrementAllAsync(node1.Counters, keys, sent, acked);
        }
        finally
        {
            await node1.System.Terminate().WaitAsync(TimeSpan.FromSeconds(60));
        }

        var writing = write.Elapsed;
        SqliteConnection.ClearAllPools();
        var events = await JournalEventsAsync(journalFile);
        var storedBefore = await StoredTotalAsync(dbFile);

        // node 2: a fresh actor system on the same files
        GC.Collect();
        GC.WaitForPendingFinalizers();
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        var cpuBefore = process.TotalProcessorTime;
        var statBefore = ProcStat.Read();
        var node2 = await StartAsync(dbFile, journalFile, scenario, scenario.FlushInterval, started: Stopwatch.StartNew());
        try
        {
            var clock = node2.Started;
            var expected = acked.Sum();
            var answers = withCaller ? GetAllAsync(node2.Counters.Region, keys, clock) : Task.FromResult<(long[]?, TimeSpan)>((null, TimeSpan.Zero));
            var total = await WaitStoredAsync(dbFile, expected);
            var recovered = clock.Elapsed;
            var (totals, answered) = await answers;
            process.Refresh();
            var cpu = process.TotalProcessorTime - cpuBefore;
            var outside = ProcStat.OutsideLoad(statBefore, ProcStat.Read(), cpu);

            var stored = await StoredAsync(dbFile, keys);
            var errors = new List<string>();
            var wrong = Enumerable.Range(0, keys.Length).Where(k => stored[k] < acked[k] || stored[k] > sent[k]).ToArray();
            if (wrong.Length > 0)
                errors.Add($"{wrong.Length} keys stored outside acknowledged..sent after recovery (e.g. {keys[wrong[0]]}: stored {stored[wrong[0]]}, acknowledged {acked[wrong[0]]}, sent {sent[wrong[0]]})");
            if (totals is not null)
            {
                var wrongAnswers = Enumerable.Range(0, keys.Length).Where(k => totals[k] != stored[k]).ToArray();
                if (wrongAnswers.Length > 0)
                    errors.Add($"{wrongAnswers.Length} GetCounter totals differ from the stored value (e.g. {keys[wrongAnswers[0]]}: answered {totals[wrongAnswers[0]]}, stored {stored[wrongAnswers[0]]})");
            }

            if (storedBefore > expected)
                errors.Add($"the counters table held {storedBefore} before recovery, more than the {expected} acknowledged");

            return result with
            {
                Sent = sent.Sum(),
                Accepted = expected,
                Rejected = sent.Sum() - expected,
                DatabaseTotal = total,
                Verified = errors.Count == 0,
                IngestSeconds = writing.TotalSeconds,
                IngestPerSecond = expected / writing.TotalSeconds,
                DurableSeconds = recovered.TotalSeconds,
                DurablePerSecond = expected / recovered.TotalSeconds,
                CpuMicrosPerIncrement = cpu.TotalMicroseconds / keys.Length, // per key recovered
                PeakWorkingSetMb = process.PeakWorkingSet64 / (1024.0 * 1024.0),
                OutsideLoad = outside,
                Error = errors.Count == 0 ? null : string.Join("; ", errors),
                EventsReplayed = events,
                StoredBeforeRecovery = storedBefore,
                RecoverySeconds = recovered.TotalSeconds,
                RecoveredKeysPerSecond = keys.Length / recovered.TotalSeconds,
                AnsweredKeysPerSecond = totals is null ? null : keys.Length / answered.TotalSeconds,
            };
        }
        finally
        {
            await node2.System.Terminate().WaitAsync(TimeSpan.FromSeconds(60));
        }
    }

    private sealed record Node(ActorSystem System, CounterSet Counters, Stopwatch Started);

    /// <param name="started">Started once the node is a cluster member, just before its counter set (and journal sweep) starts.</param>
    private static async Task<Node> StartAsync(string dbFile, string journalFile, Scenario scenario, TimeSpan flushInterval, Stopwatch? started = null)
    {
        var config = ConfigurationFactory.ParseString(string.Create(CultureInfo.InvariantCulture, $$"""
                akka.loglevel = WARNING
                akka.stdout-loglevel = WARNING
                # a crash: Terminate runs no CoordinatedShutdown, so no entity flushes or deletes its events
                akka.coordinated-shutdown.run-by-actor-system-terminate = off
                akka.write-behind.counters {
                  durability = journal
                  flush-interval = {{(long)flushInterval.TotalMilliseconds}}ms
                  # one sweep (right after start) wakes every key
                  journal.sweep-limit = {{Math.Max(10_000, scenario.Keys)}}
                  {{Systems.OursNode.SqliteJournalShards}}
                }
                """))
            .WithFallback(JournalDurability.Config(journalFile));
        var system = await Systems.OursNode.StartSystemAsync(config);
        started?.Restart();
        var counters = await WriteBehindCounters.StartAsync(system, new SqliteCounterStore($"Data Source={dbFile}"));
        return new Node(system, counters, started ?? Stopwatch.StartNew());
    }

    /// <summary>
    /// Increments of 1, each key <see cref="Scenarios.RecoveryIncrementsPerKey"/> times in key order, through the acknowledged
    /// fast path (<see cref="CounterSet.IncrementAsync(string, long)"/>, <see cref="WriteWindow"/> in flight), every one answered.
    /// </summary>
    private static async Task IncrementAllAsync(CounterSet counters, string[] keys, long[] sent, long[] acked)
    {
        using var window = new SemaphoreSlim(WriteWindow, WriteWindow);
        long failed = 0;
        string? firstFailure = null;
        for (var i = 0; i < keys.Length * Scenarios.RecoveryIncrementsPerKey; i++)
        {
            var k = i % keys.Length;
            await window.WaitAsync();
            Interlocked.Increment(ref sent[k]);
            _ = counters.IncrementAsync(keys[k], 1).WaitAsync(AskTimeout).ContinueWith(t =>
            {
                if (t.IsCompletedSuccessfully && t.Result is IncrementAccepted)
                    Interlocked.Increment(ref acked[k]);
                else
                {
                    Interlocked.Increment(ref failed);
                    Interlocked.CompareExchange(ref firstFailure,
                        t.IsCompletedSuccessfully ? t.Result.ToString() : t.Exception?.GetBaseException().Message, null);
                }

                window.Release();
            }, TaskContinuationOptions.ExecuteSynchronously);
        }

        for (var i = 0; i < WriteWindow; i++)
            await window.WaitAsync();
        if (failed > 0)
            throw new InvalidOperationException($"{failed} increments were refused or had no answer before the crash: {firstFailure}");
    }

    /// <summary>GetCounter over every key (1,000 in flight): the totals, and the time until the last answer.</summary>
    private static async Task<(long[]? Totals, TimeSpan Answered)> GetAllAsync(IActorRef region, string[] keys, Stopwatch clock)
    {
        var totals = new long[keys.Length];
        using var window = new SemaphoreSlim(AskWindow, AskWindow);
        long failed = 0;
        string? firstFailure = null;
        for (var k = 0; k < keys.Length; k++)
        {
            var key = k;
            await window.WaitAsync();
            _ = region.Ask<ICounterReply>(new GetCounter(keys[key]), AskTimeout).ContinueWith(t =>
            {
                if (t.IsCompletedSuccessfully && t.Result is CounterValue value)
                    totals[key] = value.Total;
                else
                {
                    Interlocked.Increment(ref failed);
                    Interlocked.CompareExchange(ref firstFailure, t.IsCompletedSuccessfully ? t.Result.ToString() : t.Exception?.GetBaseException().Message, null);
                }

                window.Release();
            }, TaskContinuationOptions.ExecuteSynchronously);
        }

        for (var i = 0; i < AskWindow; i++)
            await window.WaitAsync();
        var answered = clock.Elapsed;
        if (failed > 0)
            throw new InvalidOperationException($"{failed} GetCounter after the restart failed or were refused, first: {firstFailure}");
        return (totals, answered);
    }

    /// <summary>Undeleted events of the shard logs (Akka.Persistence.Sql's default table mapping).</summary>
    internal static async Task<long> JournalEventsAsync(string journalFile)
    {
        await using var connection = new SqliteConnection($"Data Source={journalFile};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync();
        await using var count = connection.CreateCommand();
        count.CommandText = "SELECT count(*) FROM journal WHERE deleted = 0 AND persistence_id LIKE '%|shard-%'";
        return (long)(await count.ExecuteScalarAsync())!;
    }

    private static async Task<long> StoredTotalAsync(string dbFile)
    {
        await using var connection = new SqliteConnection($"Data Source={dbFile};Mode=ReadOnly");
        await connection.OpenAsync();
        await using var sum = connection.CreateCommand();
        sum.CommandText = "SELECT COALESCE(SUM(value), 0) FROM counters WHERE key LIKE 'bench:%'";
        return (long)(await sum.ExecuteScalarAsync())!;
    }

    private static async Task<long[]> StoredAsync(string dbFile, string[] keys)
    {
        var index = new Dictionary<string, int>(keys.Length, StringComparer.Ordinal);
        for (var k = 0; k < keys.Length; k++)
            index[keys[k]] = k;
        var values = new long[keys.Length];
        await using var connection = new SqliteConnection($"Data Source={dbFile};Mode=ReadOnly");
        await connection.OpenAsync();
        await using var read = connection.CreateCommand();
        read.CommandText = "SELECT key, value FROM counters WHERE key LIKE 'bench:%'";
        await using var reader = await read.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            values[index[reader.GetString(0)]] = reader.GetInt64(1);
        return values;
    }

    /// <summary>Polls the counters table until its total reaches <paramref name="expected"/>; the last total seen after <see cref="RecoveryTimeout"/>.</summary>
    private static async Task<long> WaitStoredAsync(string dbFile, long expected)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var total = await StoredTotalAsync(dbFile);
            if (total >= expected || deadline.Elapsed > RecoveryTimeout)
                return total;
            await Task.Delay(TimeSpan.FromMilliseconds(25));
        }
    }
}
