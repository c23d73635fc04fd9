using System.Diagnostics;
using System.Runtime;
using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace Akka.WriteBehind.Benchmarks;

/// <summary>One measured round of one system, in its own process (the child side of the load generator).</summary>
internal static class Round
{
    public const string ResultPrefix = "BENCH-RESULT ";

    /// <summary>How long after the last increment the database may take to hold every accepted increment.</summary>
    private static readonly TimeSpan DurableTimeout = TimeSpan.FromSeconds(120);

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(25);

    /// <summary>How long the runtime must have compiled nothing for the warm-up's tier-up to count as settled.</summary>
    private static readonly TimeSpan TierUpQuiet = TimeSpan.FromMilliseconds(500);

    private static readonly TimeSpan TierUpPoll = TimeSpan.FromMilliseconds(100);

    public static async Task<int> RunAsync(BenchOptions options)
    {
        var scenario = Scenarios.Get(options.Scenario, options);
        var system = options.ChildSystem!;
        var keys = Scenarios.KeyNames(scenario.Keys);
        var sequence = Scenarios.Sequence(scenario);
        var dir = Directory.CreateTempSubdirectory("wb-bench-");
        var dbFile = Path.Combine(dir.FullName, "counters.db");
        var result = new RoundResult(scenario.Name, system, options.ChildRound, scenario.Keys, 0, 0, 0, 0, false, 0, 0, 0, 0, 0, 0, 0, 0, 0, null, null)
        {
            Gc = System.Runtime.GCSettings.IsServerGC ? "server" : "workstation",
        };
        var exitCode = 0;
        try
        {
            if (scenario.Name is "refresh" or "recovery" or "http")
            {
                // not increments: a workload of their own (RefreshRound, RecoveryRound; http: a server process under HTTP load), measured and verified there
                result = scenario.Name switch
                {
                    "refresh" => await RefreshRound.RunAsync(scenario, dbFile, result, options.Quick),
                    "recovery" => await RecoveryRound.RunAsync(scenario, system, dbFile, result),
                    _ => await Http.HttpRound.RunAsync(scenario, system, options, result),
                };
                if (!result.Verified)
                    exitCode = 2;
            }
            else
            {
                var commits = CommitLog.Current = scenario.Name == "latency" && !scenario.WarmUp ? new CommitLog() : null;
                await using var target = Systems.BatchTarget.TryCreate(system)
                    ?? Systems.WriteThroughOpsTarget.TryCreate(system)
                    ?? Systems.PostgresWriteThroughTarget.TryCreate(system)
                    ?? BenchSystems.Create(system);
                var warmKeys = scenario.OtherKeysWarmUp?.KeyNames() ?? [];
                // the write-through systems create a row for every key they will UPDATE: the warm-up's keys too
                await target.StartAsync(dbFile, scenario, warmKeys.Length == 0 ? keys : [.. keys, .. warmKeys]);
                var baseline = 0L;
                var rowsBefore = 0L;
                if (scenario.WarmUp)
                {
                    baseline = await WarmUpAsync(target, dbFile, keys);
                    commits = CommitLog.Current = new CommitLog(); // only rows committed after the warm-up was durable
                }
                else if (scenario.OtherKeysWarmUp is { } warm)
                {
                    var warmClock = Stopwatch.StartNew();
                    (baseline, var warmed) = await WarmUpOnOtherKeysAsync(target, dbFile, warm, warmKeys);
                    // batches: counts, saves and failures from here on; before the rows are read (write-through-ops counts its rows there too)
                    (target as Systems.IBatchCounts)?.ResetCounts();
                    rowsBefore = target.RowsWritten; // the table reports the measured round's rows only
                    result = result with { WarmUpIncrements = warmed, WarmUpSeconds = warmClock.Elapsed.TotalSeconds };
                }
                GC.Collect();
                GC.WaitForPendingFinalizers();

                using var process = Process.GetCurrentProcess();
                var idle = scenario.Name == "idle-keys";
                var heapBefore = idle ? GC.GetTotalMemory(forceFullCollection: true) : 0;
                process.Refresh();
                var workingSetBefore = process.WorkingSet64;
                var cpuBefore = process.TotalProcessorTime;
                var allocatedBefore = GC.GetTotalAllocatedBytes(precise: false);
                var statBefore = ProcStat.Read();
                var jitMethodsBefore = JitInfo.GetCompiledMethodCount();
                var jitTimeBefore = JitInfo.GetCompilationTime();
                var startTimestamp = Stopwatch.GetTimestamp();
                var clock = Stopwatch.StartNew();
                // idle-keys: the first increment of the second pass marks the end of the first (one activation per key)
                var pacer = new Pacer(scenario.Rate, clock) { MarkAt = idle ? scenario.Keys : -1 };

                using var sampler = AllocationSampler.StartIfAsked();
                var sent = await target.SendAsync(keys, sequence, pacer, scenario.SlowCap);
                sampler?.Report(sent.Sent);
                var ingest = clock.Elapsed;
                var total = await WaitDurableAsync(target, dbFile, baseline + sent.Accepted) - baseline;
                var durable = clock.Elapsed;

                process.Refresh();
                var cpu = process.TotalProcessorTime - cpuBefore;
                var allocated = GC.GetTotalAllocatedBytes(precise: false) - allocatedBefore;
                var outside = ProcStat.OutsideLoad(statBefore, ProcStat.Read(), cpu);
                var jitMethods = JitInfo.GetCompiledMethodCount() - jitMethodsBefore;
                var jitTime = JitInfo.GetCompilationTime() - jitTimeBefore;
                var rows = target.RowsWritten - rowsBefore;
                var verified = total == sent.Accepted;
                result = result with
                {
                    Sent = sent.Sent,
                    Accepted = sent.Accepted,
                    Rejected = sent.Rejected,
                    DatabaseTotal = total,
                    Verified = verified,
                    IngestSeconds = ingest.TotalSeconds,
                    DurableSeconds = durable.TotalSeconds,
                    IngestPerSecond = sent.Accepted / ingest.TotalSeconds,
                    DurablePerSecond = sent.Accepted / durable.TotalSeconds,
                    CpuMicrosPerIncrement = cpu.TotalMicroseconds / Math.Max(1, sent.Sent),
                    AllocatedBytesPerIncrement = allocated / (double)Math.Max(1, sent.Sent),
                    RowsWritten = rows,
                    RowsPerIncrement = (double)rows / Math.Max(1, sent.Accepted),
                    RowsFloorPerIncrement = RowsFloor(sequence, sent.Sent, scenario.Keys, ingest, scenario.FlushInterval),
                    PeakWorkingSetMb = process.PeakWorkingSet64 / (1024.0 * 1024.0),
                    OutsideLoad = outside,
                    JitMethodsInRound = jitMethods,
                    JitMillisecondsInRound = jitTime.TotalMilliseconds,
                    Error = verified
                        ? null
                        : $"database total {total} != accepted increments {sent.Accepted}" +
                          (target is Systems.IBatchCounts { FailureSummary.Length: > 0 } b ? $"; operations answered failed: {b.FailureSummary}" : ""),
                };
                if (!verified)
                    exitCode = 2;
                else if (idle)
                    result = await WithIdleAsync(result, target, scenario, pacer, heapBefore, workingSetBefore);
                else if (target is Systems.IBatchCounts batches)
                    result = WithBatches(result, batches, scenario, durable);
                else if (commits is not null)
                    result = await WithLatencyAsync(result, commits, keys, sequence, sent, startTimestamp, scenario);
            }
        }
        catch (Exception e)
        {
            result = result with { Error = e.GetBaseException().Message };
            Console.Error.WriteLine(e);
            exitCode = 3;
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            try
            {
                dir.Delete(recursive: true);
            }
            catch (IOException)
            {
                // a file still open by a stopping system: the temp directory is left behind
            }
        }

        Console.WriteLine(ResultPrefix + JsonSerializer.Serialize(result, Report.Json));
        return exitCode;
    }

    /// <summary>
    /// idle-keys, once every increment is durable: memory per entity (managed heap after a full GC, and working set, against
    /// the same readings before the first increment), activation rate (keys ÷ time to the end of the first pass), then —
    /// for systems that can count their entities — the wait until every entity is passivated and the heap after it.
    /// </summary>
    private static async Task<RoundResult> WithIdleAsync(
        RoundResult result, IBenchTarget target, Scenario scenario, Pacer pacer, long heapBefore, long workingSetBefore)
    {
        using var process = Process.GetCurrentProcess();
        var heap = GC.GetTotalMemory(forceFullCollection: true);
        process.Refresh();
        result = result with
        {
            HeapBytesPerEntity = (heap - heapBefore) / (double)scenario.Keys,
            WorkingSetBytesPerEntity = (process.WorkingSet64 - workingSetBefore) / (double)scenario.Keys,
            // only where the mark is taken after the first pass was processed: ours (a barrier there), the dictionary (synchronous);
            // Orleans' one-way calls are only sent by then
            ActivationsPerSecond = pacer.Marked is { } first && target is Systems.OursTarget or Systems.DictionaryTarget
                ? scenario.Keys / first.TotalSeconds
                : null,
        };
        if (target is not Systems.ILiveEntities entities)
            return result;
        result = result with { LiveEntitiesAtReading = await entities.LiveEntitiesAsync() };

        var wait = Stopwatch.StartNew();
        var limit = (scenario.PassivateIdleAfter ?? TimeSpan.Zero) + TimeSpan.FromSeconds(60);
        long live;
        while ((live = await entities.LiveEntitiesAsync()) > 0 && wait.Elapsed < limit)
            await Task.Delay(TimeSpan.FromMilliseconds(250));
        var passivated = wait.Elapsed;
        var heapAfter = GC.GetTotalMemory(forceFullCollection: true);
        return result with
        {
            LiveEntitiesAfterIdle = live,
            PassivationSeconds = live == 0 ? passivated.TotalSeconds : null,
            HeapBytesPerEntityAfterPassivation = (heapAfter - heapBefore) / (double)scenario.Keys,
        };
    }

    /// <summary>batches: batches per second and the operations' latencies (from each one's intended send time to its answer).</summary>
    private static RoundResult WithBatches(RoundResult result, Systems.IBatchCounts batches, Scenario scenario, TimeSpan durable)
    {
        var h = batches.Latencies?.Histogram();
        static double Ms(long micros) => micros / 1000.0;
        return result with
        {
            Batches = batches.Batches,
            BatchesPerSecond = batches.Batches / durable.TotalSeconds,
            InFlight = scenario.InFlight,
            Failures = batches.FailureSummary is { Length: > 0 } failures ? failures : null,
            SaveP99Ms = batches.SaveP99Ms,
            Rate = scenario.Rate?.Rate,
            LatencySamples = h?.TotalCount,
            LatencyP50Ms = h is null ? null : Ms(h.GetValueAtPercentile(50)),
            LatencyP99Ms = h is null ? null : Ms(h.GetValueAtPercentile(99)),
            LatencyP999Ms = h is null ? null : Ms(h.GetValueAtPercentile(99.9)),
            LatencyMaxMs = h is null ? null : Ms(h.GetValueAtPercentile(100)),
        };
    }

    /// <summary>
    /// latency warm-up: one increment per key, closed loop, then waits until the database holds them all; returns that total,
    /// which the measured round's total is counted on top of. Throws when the warm-up does not become durable.
    /// </summary>
    private static async Task<long> WarmUpAsync(IBenchTarget target, string dbFile, string[] keys)
    {
        var each = Enumerable.Range(0, keys.Length).ToArray();
        var sent = await target.SendAsync(keys, each, Pacer.Closed(Stopwatch.StartNew()), TimeSpan.MaxValue);
        var total = await WaitDurableAsync(target, dbFile, sent.Accepted);
        if (sent.Accepted != keys.Length || total != sent.Accepted)
            throw new InvalidOperationException($"warm-up: {sent.Accepted} of {keys.Length} increments accepted, database total {total}");
        return total;
    }

    /// <summary>
    /// uniform, zipf-*, batches: the warm-up on other keys (<see cref="WarmUpPlan"/>) through the system's own send path, closed loop,
    /// pass after pass, each on keys of its own: sends, waits until the database holds everything sent so far, then for the
    /// runtime's tier-up to settle; after the last, for the system's own one-time work (<see cref="WarmUpPlan.SettleLimit"/>)
    /// and the tier-up again. Returns the durable total (the measured round counts on top of it) and the accepted
    /// warm-up increments. Throws when the total differs from what was accepted.
    /// </summary>
    private static async Task<(long Total, long Accepted)> WarmUpOnOtherKeysAsync(
        IBenchTarget target, string dbFile, WarmUpPlan warm, string[] warmKeys)
    {
        var accepted = 0L;
        var total = 0L;
        foreach (var (keys, sequence) in warm.Passes(warmKeys))
        {
            var sent = await target.SendAsync(keys, sequence, Pacer.Closed(Stopwatch.StartNew()), warm.PassCap);
            accepted += sent.Accepted;
            total = await WaitDurableAsync(target, dbFile, accepted);
            if (total != accepted)
                throw new InvalidOperationException($"warm-up on other keys: {accepted} accepted, database total {total}");
            await SettleTierUpAsync(warm.TierUpLimit);
        }

        if (target is Systems.IWarmUpSettle settle && warm.SettleLimit > TimeSpan.Zero)
        {
            await settle.SettleAsync(warm.SettleLimit);
            await SettleTierUpAsync(warm.TierUpLimit);
        }

        return (total, accepted);
    }

    /// <summary>
    /// Waits while the runtime recompiles, at tier 1 on a background thread, the methods the warm-up called often: until it
    /// compiled nothing for <see cref="TierUpQuiet"/>, at most <paramref name="limit"/>. A fixed pause would be too short on
    /// a loaded 2-core box (up to 3 s measured) or wasted on a quiet one.
    /// </summary>
    private static async Task SettleTierUpAsync(TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        var compiled = JitInfo.GetCompiledMethodCount();
        var quietSince = TimeSpan.Zero;
        while (clock.Elapsed - quietSince < TierUpQuiet && clock.Elapsed < limit)
        {
            await Task.Delay(TierUpPoll);
            var now = JitInfo.GetCompiledMethodCount();
            if (now != compiled)
                (compiled, quietSince) = (now, clock.Elapsed);
        }
    }

    /// <summary>Tell→durable percentiles from the commit log (<see cref="CommitLog"/>); fails the round when a key's commits do not add up.</summary>
    private static async Task<RoundResult> WithLatencyAsync(
        RoundResult result, CommitLog commits, string[] keys, int[] sequence, SendResult sent, long startTimestamp, Scenario scenario)
    {
        var plan = scenario.Rate!;
        if (sent.Accepted != sent.Sent)
            throw new InvalidOperationException($"latency: {sent.Sent - sent.Accepted} increments refused; a refused increment has no durable time");
        if (commits.Count == 0)
            return result with { Rate = plan.Rate, Error = "latency: this system does not write through CountingStore (no commit times)" };

        // the database total is visible a moment before ApplyAsync returns and the commit is logged: wait for the log
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                var h = commits.Latencies(keys, sequence, sent.Sent, startTimestamp, plan.IntendedSeconds);
                static double Ms(long micros) => micros / 1000.0;
                var p99 = Ms(h.GetValueAtPercentile(99));
                return result with
                {
                    Rate = plan.Rate,
                    LatencySamples = h.TotalCount,
                    LatencyP50Ms = Ms(h.GetValueAtPercentile(50)),
                    LatencyP99Ms = p99,
                    LatencyP999Ms = Ms(h.GetValueAtPercentile(99.9)),
                    LatencyMaxMs = Ms(h.GetValueAtPercentile(100)),
                    P99OverFlushInterval = p99 / scenario.FlushInterval.TotalMilliseconds,
                };
            }
            catch (InvalidOperationException) when (deadline.Elapsed < TimeSpan.FromSeconds(10))
            {
                await Task.Delay(PollInterval);
            }
        }
    }

    /// <summary>
    /// Polls the database until it holds <paramref name="expected"/> (the sum of every accepted increment) and returns its total.
    /// Returns early with a larger total (applied twice); returns the last total seen after <see cref="DurableTimeout"/>.
    /// </summary>
    private static async Task<long> WaitDurableAsync(string dbFile, long expected)
    {
        await using var connection = new SqliteConnection($"Data Source={dbFile};Mode=ReadOnly");
        await connection.OpenAsync();
        await using var sum = connection.CreateCommand();
        sum.CommandText = "SELECT COALESCE(SUM(value), 0) FROM counters WHERE key LIKE 'bench:%'";
        return await WaitDurableAsync(async () => (long)(await sum.ExecuteScalarAsync())!, expected);
    }

    /// <summary>Waits like <see cref="WaitDurableAsync(string, long)"/> on the target's own total when it keeps one (<see cref="Systems.IOwnTotal"/>), else on the round's SQLite file.</summary>
    private static Task<long> WaitDurableAsync(IBenchTarget target, string dbFile, long expected) =>
        target is Systems.IOwnTotal own ? WaitDurableAsync(own.StoredTotalAsync, expected) : WaitDurableAsync(dbFile, expected);

    /// <summary>Polls <paramref name="storedTotal"/> like <see cref="WaitDurableAsync(string, long)"/>.</summary>
    private static async Task<long> WaitDurableAsync(Func<Task<long>> storedTotal, long expected)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var total = await storedTotal();
            if (total >= expected || deadline.Elapsed > DurableTimeout)
                return total;
            await Task.Delay(PollInterval);
        }
    }

    /// <summary>
    /// The steady-state floor of rows per increment for a write-behind with this flush interval:
    /// 1 / (rate per key × flush interval), where a key's rate is its increments over the ingest time; never less than one
    /// row per key touched, never more than one row per increment. Runs about as short as one flush interval can beat it
    /// (a key's first interval starts at its first increment, not at the start of the run).
    /// </summary>
    private static double RowsFloor(int[] sequence, long sent, int keys, TimeSpan ingest, TimeSpan flushInterval)
    {
        var perKey = new long[keys];
        for (var i = 0; i < sent; i++)
            perKey[sequence[i]]++;
        var intervals = Math.Max(1, ingest / flushInterval);
        var rows = perKey.Where(n => n > 0).Sum(n => Math.Min(n, intervals));
        return rows / Math.Max(1, sent);
    }
}
