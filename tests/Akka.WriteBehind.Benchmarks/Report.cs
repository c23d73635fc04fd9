using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Akka.WriteBehind.Benchmarks;

/// <summary>The side-by-side table (Markdown) and every measured round (JSON) of one run.</summary>
internal sealed class Report(DateTimeOffset started, BenchOptions options, IReadOnlyList<Scenario> scenarios, IReadOnlyList<RoundResult> results)
{
    /// <summary>Rounds whose outside CPU load is above this are flagged.</summary>
    public const double OutsideLoadLimit = 0.10;

    public static readonly JsonSerializerOptions Json = new() { WriteIndented = false };

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public async Task<IReadOnlyList<string>> WriteAsync(string outDir)
    {
        Directory.CreateDirectory(outDir);
        var stamp = started.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
        var name = $"{options.Scenario}{(options.Quick ? "-quick" : "")}-{stamp}";
        var md = Path.Combine(outDir, name + ".md");
        var json = Path.Combine(outDir, name + ".json");
        await File.WriteAllTextAsync(md, Markdown());
        await File.WriteAllTextAsync(json, JsonSerializer.Serialize(new
        {
            started,
            machine = Machine(),
            options = new { options.Scenario, options.Rounds, options.Quick, options.Keys, options.Increments, Duration = options.Duration?.ToString(), options.Rate, options.Burst, options.Connections, options.Cold },
            scenarios,
            systems = BenchSystems.Descriptions.Concat(Systems.BatchTarget.Descriptions).Concat(Http.HttpSystems.Descriptions)
            .Append(new KeyValuePair<string, string>(Systems.PostgresWriteThroughTarget.Name, Systems.PostgresWriteThroughTarget.Description)).ToDictionary(),
            rounds = results,
        }, Indented));
        return [md, json];
    }

    public static string Machine()
    {
        var model = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim()
            : null;
        return $"{Environment.ProcessorCount} cores, {model ?? "unknown CPU"}, {System.Runtime.InteropServices.RuntimeInformation.OSDescription.Trim()}, .NET {Environment.Version}";
    }

    public string Markdown()
    {
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"Benchmark run {started:yyyy-MM-dd HH:mm} UTC on {Machine()}; {options.Rounds} round(s) per system, each a fresh process, systems interleaved{(options.Quick ? "; --quick" : "")}.");
        sb.AppendLine("Cells: median (min–max over rounds). Every round verified the database total against the accepted increments (refresh: every item's stored state against its last sync).");
        sb.AppendLine(CultureInfo.InvariantCulture, $"Outside load: CPU used by other processes during the round, share of all cores (from /proc/stat); ⚠ above {OutsideLoadLimit:P0}.");
        var workstation = results.Where(r => r.Gc == "workstation").Select(r => r.System).Distinct().ToArray();
        sb.AppendLine("GC: Server GC with background collections in every round's process (the default of ASP.NET Core and Generic Host apps, " +
            "where the library runs)" + (workstation.Length == 0 ? "." : $", except {string.Join(", ", workstation)}: workstation GC (measured faster for it)."));
        foreach (var scenario in scenarios)
        {
            var rows = results.Where(r => r.Scenario == scenario.Name).ToArray();
            sb.AppendLine();
            if (scenario.Name == "refresh")
            {
                sb.AppendLine(CultureInfo.InvariantCulture, $"### refresh: {scenario.Summary}");
                sb.AppendLine();
                RefreshTable(sb, rows, scenario);
                continue;
            }

            if (scenario.Name == "http")
            {
                sb.AppendLine(CultureInfo.InvariantCulture, $"### http: {scenario.Summary}");
                sb.AppendLine();
                Http.HttpReport.Table(sb, rows, scenario);
                continue;
            }

            if (scenario.Name == "recovery")
            {
                sb.AppendLine(CultureInfo.InvariantCulture, $"### recovery: {scenario.Summary}");
                sb.AppendLine();
                RecoveryTable(sb, rows, scenario);
                continue;
            }

            if (scenario.Name == "batches")
            {
                sb.AppendLine(CultureInfo.InvariantCulture, $"### batches: {scenario.Summary}");
                sb.AppendLine();
                BatchesTable(sb, rows, scenario);
                continue;
            }

            var pace = scenario.Rate is { BurstFactor: 1 } fixedRate
                ? $"open loop at a fixed {fixedRate.Rate:N0}/s for {fixedRate.Length.TotalSeconds:0} s"
                : scenario.Rate is { } p
                ? $"open loop {p.Rate * p.BurstFactor:N0}/s for {p.BurstLength.TotalSeconds:0} s then {p.Rate:N0}/s, {p.Length.TotalSeconds:0} s"
                : "closed loop";
            sb.AppendLine(CultureInfo.InvariantCulture, $"### {scenario.Name}: {scenario.Keys:N0} keys, {scenario.Distribution}, {scenario.Increments:N0} increments, {pace}, flush interval {scenario.FlushInterval.TotalSeconds:0.###} s{(scenario.WarmUpSummary is { Length: > 0 } warm ? $", {warm}" : "")}");
            sb.AppendLine();
            if (scenario.Name == "idle-keys")
            {
                IdleTable(sb, rows, scenario);
                continue;
            }

            if (scenario.Name == "latency")
            {
                LatencyTable(sb, scenario, rows);
                continue;
            }

            sb.AppendLine("| system | sent | ingest/s | durable/s | CPU µs/inc | rows/inc | floor | peak MB | outside load | durable ÷ dictionary | durable ÷ write-through FULL |");
            sb.AppendLine("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
            var dictionary = Median(rows.Where(r => r.System == BenchSystems.Dictionary && r.Error is null).Select(r => r.DurablePerSecond));
            var writeThrough = Median(rows.Where(r => r.System == BenchSystems.WriteThroughFull && r.Error is null).Select(r => r.DurablePerSecond));
            foreach (var system in scenario.Systems)
            {
                var all = rows.Where(r => r.System == system).ToArray();
                var ok = all.Where(r => r.Error is null).ToArray();
                if (ok.Length == 0)
                {
                    sb.AppendLine(CultureInfo.InvariantCulture, $"| {system} | FAILED: {all.FirstOrDefault()?.Error?.ReplaceLineEndings(" ").Replace("|", "/", StringComparison.Ordinal)} |||||||||| ");
                    continue;
                }

                var durable = Median(ok.Select(r => r.DurablePerSecond));
                var outside = ok.Max(r => r.OutsideLoad);
                var failures = all.Length - ok.Length;
                sb.Append(CultureInfo.InvariantCulture, $"| {system}{(failures > 0 ? $" ({failures} round(s) FAILED)" : "")}")
                    .Append(CultureInfo.InvariantCulture, $" | {Si(Median(ok.Select(r => (double)r.Sent)))}")
                    .Append(" | ").Append(Cell(ok.Select(r => r.IngestPerSecond), Si))
                    .Append(" | ").Append(Cell(ok.Select(r => r.DurablePerSecond), Si))
                    .Append(" | ").Append(Cell(ok.Select(r => r.CpuMicrosPerIncrement), v => v.ToString("0.00", CultureInfo.InvariantCulture)))
                    .Append(" | ").Append(Cell(ok.Select(r => r.RowsPerIncrement), Small))
                    .Append(" | ").Append(Small(Median(ok.Select(r => r.RowsFloorPerIncrement))))
                    .Append(" | ").Append(Cell(ok.Select(r => r.PeakWorkingSetMb), v => v.ToString("0", CultureInfo.InvariantCulture)))
                    .Append(" | ").Append(outside is { } o ? $"{o.ToString("P0", CultureInfo.InvariantCulture)}{(o > OutsideLoadLimit ? " ⚠" : "")}" : "n/a")
                    .Append(" | ").Append(Ratio(durable, dictionary))
                    .Append(" | ").Append(Ratio(durable, writeThrough))
                    .AppendLine(" |");
            }

            if (scenario.Name is "uniform" or "zipf-0.99" or "zipf-1.2" && !scenario.Systems.Contains(Systems.PostgresWriteThroughTarget.Name))
                sb.AppendLine().AppendLine(CultureInfo.InvariantCulture, $"{Systems.PostgresWriteThroughTarget.Name}: skipped (no PostgreSQL server given: --pg or {Systems.PostgresWriteThroughTarget.EnvironmentVariable}).");
        }

        sb.AppendLine();
        sb.AppendLine("Systems:");
        foreach (var (name, description) in BenchSystems.Descriptions.Concat(Systems.BatchTarget.Descriptions).Concat(Http.HttpSystems.Descriptions)
            .Append(new KeyValuePair<string, string>(Systems.PostgresWriteThroughTarget.Name, Systems.PostgresWriteThroughTarget.Description)))
            sb.AppendLine(CultureInfo.InvariantCulture, $"- `{name}`: {description}");
        return sb.ToString();
    }

    /// <summary>Refresh cache: syncs per second against the configured tps, per-cycle fairness, the store following the syncs.</summary>
    private static void RefreshTable(StringBuilder sb, RoundResult[] rows, Scenario scenario)
    {
        sb.AppendLine("Syncs/s: counted by the syncer over the window; ÷ tps: the share of the configured budget the rate limit delivers (at most 1 + burst ÷ (tps × window)). " +
                      "Cycles: completed in the window (skipped: ticks while one ran, expected with this resync-period). Syncs per item: min..max over the items in the window " +
                      "(verified within completed cycles ± 1: none starved, none twice in a cycle). Every sync returns a new state: rows/sync and writes/s are the store writes " +
                      "(one entity writes one change at a time, the latest state winning). Settle: after the syncer stops changing states, until refresh_items holds every item's last synced state (verified). " +
                      "Stale inputs: syncs handed a state other than the one the syncer returned last for the item.");
        sb.AppendLine();
        sb.AppendLine("| system | items | creates/s | tps | syncs/s | syncs/s ÷ tps | cycles (skipped) | mean cycle s | syncs per item | stale inputs | writes/s | rows/sync | settle s | CPU µs/sync | peak MB | outside load |");
        sb.AppendLine("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
        static string F(double v, string format) => v.ToString(format, CultureInfo.InvariantCulture);
        foreach (var system in scenario.Systems)
        {
            var all = rows.Where(r => r.System == system).ToArray();
            var ok = all.Where(r => r.Error is null && r.TpsRatio is not null).ToArray();
            if (ok.Length == 0)
            {
                sb.AppendLine(CultureInfo.InvariantCulture, $"| {system} | FAILED: {all.FirstOrDefault()?.Error?.ReplaceLineEndings(" ").Replace("|", "/", StringComparison.Ordinal)} |||||||||||||| ");
                continue;
            }

            var outside = ok.Max(r => r.OutsideLoad);
            sb.Append(CultureInfo.InvariantCulture, $"| {system}{(all.Length > ok.Length ? $" ({all.Length - ok.Length} round(s) FAILED)" : "")}")
                .Append(CultureInfo.InvariantCulture, $" | {Si(scenario.Keys)}")
                .Append(" | ").Append(Cell(ok.Select(r => r.IngestPerSecond), Si))
                .Append(" | ").Append(Si(scenario.RefreshTps))
                .Append(" | ").Append(Cell(ok.Select(r => r.SyncsPerSecond!.Value), Si))
                .Append(" | ").Append(Cell(ok.Select(r => r.TpsRatio!.Value), v => F(v, "0.000")))
                .Append(" | ").Append(Cell(ok.Select(r => (double)r.CyclesCompleted!.Value), v => F(v, "0"))).Append(" (").Append(Cell(ok.Select(r => (double)r.CyclesSkipped!.Value), v => F(v, "0"))).Append(')')
                .Append(" | ").Append(ok.Any(r => r.MeanCycleSeconds is null) ? "n/a" : Cell(ok.Select(r => r.MeanCycleSeconds!.Value), v => F(v, "0.00")))
                .Append(" | ").Append(string.Join(", ", ok.Select(r => $"{r.SyncsPerItemMin}..{r.SyncsPerItemMax}")))
                .Append(" | ").Append(Cell(ok.Select(r => (double)r.StaleSyncInputs!.Value), v => F(v, "0")))
                .Append(" | ").Append(Cell(ok.Select(r => r.StoreWritesPerSecond!.Value), Si))
                .Append(" | ").Append(Cell(ok.Select(r => r.RowsPerIncrement), v => F(v, "0.00")))
                .Append(" | ").Append(Cell(ok.Select(r => r.SettleSeconds!.Value), v => F(v, "0.0")))
                .Append(" | ").Append(Cell(ok.Select(r => r.CpuMicrosPerIncrement), v => F(v, "0")))
                .Append(" | ").Append(Cell(ok.Select(r => r.PeakWorkingSetMb), v => F(v, "0")))
                .Append(" | ").Append(outside is { } o ? $"{o.ToString("P0", CultureInfo.InvariantCulture)}{(o > OutsideLoadLimit ? " ⚠" : "")}" : "n/a")
                .AppendLine(" |");
        }
    }

    /// <summary>Journal durability after a crash: how fast a fresh node brings every key's acknowledged total to the counters table.</summary>
    private static void RecoveryTable(StringBuilder sb, RoundResult[] rows, Scenario scenario)
    {
        sb.AppendLine("Before the crash: Ask increments with journal durability and flush-interval 1 h (write: acknowledged increments/s), so every key holds journal events and the counters table nothing (stored before). " +
                      "The actor system then terminates without CoordinatedShutdown; a fresh one starts on the same files. Recovered: keys ÷ time from its counter set starting until the counters table holds every " +
                      "acknowledged increment (includes one flush interval); GetCounter: keys ÷ time until every key answered (activation and replay). " +
                      "Verified per key: acknowledged ≤ stored ≤ sent, and every GetCounter total equals the stored value. CPU: of the fresh node, per key.");
        sb.AppendLine();
        sb.AppendLine("| system | keys | write inc/s | events replayed | stored before | recovered keys/s | recovery s | GetCounter keys/s | CPU µs/key | peak MB | outside load |");
        sb.AppendLine("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
        static string F(double v, string format) => v.ToString(format, CultureInfo.InvariantCulture);
        foreach (var system in scenario.Systems)
        {
            var all = rows.Where(r => r.System == system).ToArray();
            var ok = all.Where(r => r.Error is null && r.RecoveredKeysPerSecond is not null).ToArray();
            if (ok.Length == 0)
            {
                sb.AppendLine(CultureInfo.InvariantCulture, $"| {system} | FAILED: {all.FirstOrDefault()?.Error?.ReplaceLineEndings(" ").Replace("|", "/", StringComparison.Ordinal)} ||||||||| ");
                continue;
            }

            var outside = ok.Max(r => r.OutsideLoad);
            sb.Append(CultureInfo.InvariantCulture, $"| {system}{(all.Length > ok.Length ? $" ({all.Length - ok.Length} round(s) FAILED)" : "")}")
                .Append(CultureInfo.InvariantCulture, $" | {Si(scenario.Keys)}")
                .Append(" | ").Append(Cell(ok.Select(r => r.IngestPerSecond), Si))
                .Append(" | ").Append(Cell(ok.Select(r => (double)r.EventsReplayed!.Value), Si))
                .Append(" | ").Append(Cell(ok.Select(r => (double)r.StoredBeforeRecovery!.Value), Si))
                .Append(" | ").Append(Cell(ok.Select(r => r.RecoveredKeysPerSecond!.Value), Si))
                .Append(" | ").Append(Cell(ok.Select(r => r.RecoverySeconds!.Value), v => F(v, "0.00")))
                .Append(" | ").Append(ok.Any(r => r.AnsweredKeysPerSecond is null) ? "n/a" : Cell(ok.Select(r => r.AnsweredKeysPerSecond!.Value), Si))
                .Append(" | ").Append(Cell(ok.Select(r => r.CpuMicrosPerIncrement), v => F(v, "0")))
                .Append(" | ").Append(Cell(ok.Select(r => r.PeakWorkingSetMb), v => F(v, "0")))
                .Append(" | ").Append(outside is { } o ? $"{o.ToString("P0", CultureInfo.InvariantCulture)}{(o > OutsideLoadLimit ? " ⚠" : "")}" : "n/a")
                .AppendLine(" |");
        }
    }

    /// <summary>Tell→durable latency: from each increment's intended send time to the commit that made it durable.</summary>
    private static void LatencyTable(StringBuilder sb, Scenario scenario, RoundResult[] rows)
    {
        sb.AppendLine("Latency: from each increment's intended send time (open loop) to the commit of the row that made it durable, every increment counted (HdrHistogram).");
        sb.AppendLine();
        sb.AppendLine("| system | sent | p50 ms | p99 ms | p99.9 ms | max ms | p99 ÷ flush interval | CPU µs/inc | rows/inc | peak MB | outside load |");
        sb.AppendLine("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
        static string Ms(double v) => v.ToString(v >= 100 ? "0" : "0.0", CultureInfo.InvariantCulture);
        foreach (var system in scenario.Systems)
        {
            var all = rows.Where(r => r.System == system).ToArray();
            var ok = all.Where(r => r.Error is null && r.LatencyP50Ms is not null).ToArray();
            if (ok.Length == 0)
            {
                sb.AppendLine(CultureInfo.InvariantCulture, $"| {system} | FAILED: {all.FirstOrDefault()?.Error?.ReplaceLineEndings(" ").Replace("|", "/", StringComparison.Ordinal)} |||||||||| ");
                continue;
            }

            var outside = ok.Max(r => r.OutsideLoad);
            var failures = all.Length - ok.Length;
            sb.Append(CultureInfo.InvariantCulture, $"| {system}{(failures > 0 ? $" ({failures} round(s) FAILED)" : "")}")
                .Append(CultureInfo.InvariantCulture, $" | {Si(Median(ok.Select(r => (double)r.Sent)))}")
                .Append(" | ").Append(Cell(ok.Select(r => r.LatencyP50Ms!.Value), Ms))
                .Append(" | ").Append(Cell(ok.Select(r => r.LatencyP99Ms!.Value), Ms))
                .Append(" | ").Append(Cell(ok.Select(r => r.LatencyP999Ms!.Value), Ms))
                .Append(" | ").Append(Cell(ok.Select(r => r.LatencyMaxMs!.Value), Ms))
                .Append(" | ").Append(Cell(ok.Select(r => r.P99OverFlushInterval!.Value), v => v.ToString("0.00", CultureInfo.InvariantCulture)))
                .Append(" | ").Append(Cell(ok.Select(r => r.CpuMicrosPerIncrement), v => v.ToString("0.00", CultureInfo.InvariantCulture)))
                .Append(" | ").Append(Cell(ok.Select(r => r.RowsPerIncrement), Small))
                .Append(" | ").Append(Cell(ok.Select(r => r.PeakWorkingSetMb), v => v.ToString("0", CultureInfo.InvariantCulture)))
                .Append(" | ").Append(outside is { } o ? $"{o.ToString("P0", CultureInfo.InvariantCulture)}{(o > OutsideLoadLimit ? " ⚠" : "")}" : "n/a")
                .AppendLine(" |");
        }
    }

    /// <summary>Many keys with little traffic: memory per entity, activation and passivation.</summary>
    private static void IdleTable(StringBuilder sb, RoundResult[] rows, Scenario scenario)
    {
        sb.AppendLine(CultureInfo.InvariantCulture, $"Memory per entity: growth from before the first increment to all durable ÷ keys (managed heap after a full GC; working set); entities idle longer than passivate-idle-after during the run are gone by then (live at reading). Activation: keys ÷ time of the first pass. Passivation: passivate-idle-after = {scenario.PassivateIdleAfter?.TotalSeconds:0.#} s for systems that passivate; time from all durable until no entity is alive, and the heap then.");
        sb.AppendLine();
        sb.AppendLine("| system | keys | live at reading | heap B/entity | working set B/entity | activations/s | durable/s | all passivated after s | heap B/entity after passivation | CPU µs/inc | peak MB | outside load |");
        sb.AppendLine("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
        static string F0(double v) => v.ToString("0", CultureInfo.InvariantCulture);
        foreach (var system in scenario.Systems)
        {
            var all = rows.Where(r => r.System == system).ToArray();
            var ok = all.Where(r => r.Error is null && r.HeapBytesPerEntity is not null).ToArray();
            if (ok.Length == 0)
            {
                sb.AppendLine(CultureInfo.InvariantCulture, $"| {system} | FAILED: {all.FirstOrDefault()?.Error?.ReplaceLineEndings(" ").Replace("|", "/", StringComparison.Ordinal)} |||||||||| ");
                continue;
            }

            var outside = ok.Max(r => r.OutsideLoad);
            string Passivation() => ok.All(r => r.LiveEntitiesAfterIdle is null)
                ? "n/a"
                : ok.Any(r => r.PassivationSeconds is null)
                    ? $"not all: {ok.Max(r => r.LiveEntitiesAfterIdle):N0} alive"
                    : Cell(ok.Select(r => r.PassivationSeconds!.Value), v => v.ToString("0.0", CultureInfo.InvariantCulture));
            sb.Append(CultureInfo.InvariantCulture, $"| {system}{(all.Length > ok.Length ? $" ({all.Length - ok.Length} round(s) FAILED)" : "")}")
                .Append(CultureInfo.InvariantCulture, $" | {Si(scenario.Keys)}")
                .Append(" | ").Append(ok.Any(r => r.LiveEntitiesAtReading is null) ? "n/a" : Cell(ok.Select(r => (double)r.LiveEntitiesAtReading!.Value), Si))
                .Append(" | ").Append(Cell(ok.Select(r => r.HeapBytesPerEntity!.Value), F0))
                .Append(" | ").Append(Cell(ok.Select(r => r.WorkingSetBytesPerEntity!.Value), F0))
                .Append(" | ").Append(ok.Any(r => r.ActivationsPerSecond is null) ? "n/a" : Cell(ok.Select(r => r.ActivationsPerSecond!.Value), Si))
                .Append(" | ").Append(Cell(ok.Select(r => r.DurablePerSecond), Si))
                .Append(" | ").Append(Passivation())
                .Append(" | ").Append(ok.Any(r => r.HeapBytesPerEntityAfterPassivation is null) ? "n/a" : Cell(ok.Select(r => r.HeapBytesPerEntityAfterPassivation!.Value), F0))
                .Append(" | ").Append(Cell(ok.Select(r => r.CpuMicrosPerIncrement), v => v.ToString("0.00", CultureInfo.InvariantCulture)))
                .Append(" | ").Append(Cell(ok.Select(r => r.PeakWorkingSetMb), F0))
                .Append(" | ").Append(outside is { } o ? $"{o.ToString("P0", CultureInfo.InvariantCulture)}{(o > OutsideLoadLimit ? " ⚠" : "")}" : "n/a")
                .AppendLine(" |");
        }
    }

    /// <summary>Batches API: every operation answered once its batch was saved; the store's total verified against the operations.</summary>
    private static void BatchesTable(StringBuilder sb, RoundResult[] rows, Scenario scenario)
    {
        sb.AppendLine("Operations: Deposit(1), answered once the batch holding it is saved; the stored balances add up to the operations (verified).");
        sb.AppendLine();
        sb.AppendLine("Failed: answered with a typed error that keeps nothing (batch past max-duration, store failure, saturated, rejected); not in operations/s.");
        sb.AppendLine();
        sb.AppendLine("Latency: from each operation's intended send time (open loop; closed loop: when it was sent) to its answer, every operation counted.");
        sb.AppendLine();
        sb.AppendLine("Save p99: the library's akka.write_behind.batches.save_duration histogram over the round (one save, as a batch waits for it).");
        sb.AppendLine();
        sb.AppendLine("| system | succeeded | failed | operations/s | batches/s | operations per batch | CPU µs/op | p50 ms | p99 ms | save p99 ms | ops/s ÷ write-through-ops | B alloc/op | peak MB | outside load |");
        sb.AppendLine("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
        static string Ms(double v) => v.ToString(v >= 100 ? "0" : "0.0", CultureInfo.InvariantCulture);
        var baseline = Median(rows.Where(r => r.System == Systems.WriteThroughOpsTarget.Name && r.Error is null).Select(r => r.DurablePerSecond));
        foreach (var system in scenario.Systems)
        {
            var all = rows.Where(r => r.System == system).ToArray();
            var ok = all.Where(r => r.Error is null && r.Batches is not null).ToArray();
            if (ok.Length == 0)
            {
                sb.AppendLine(CultureInfo.InvariantCulture, $"| {system} | FAILED: {all.FirstOrDefault()?.Error?.ReplaceLineEndings(" ").Replace("|", "/", StringComparison.Ordinal)} |||||||||||| ");
                continue;
            }

            var outside = ok.Max(r => r.OutsideLoad);
            sb.Append(CultureInfo.InvariantCulture, $"| {system}{(all.Length > ok.Length ? $" ({all.Length - ok.Length} round(s) FAILED)" : "")}")
                .Append(CultureInfo.InvariantCulture, $" | {Si(Median(ok.Select(r => (double)r.Accepted)))}")
                .Append(" | ").Append(Cell(ok.Select(r => (double)r.Rejected), Si))
                .Append(" | ").Append(Cell(ok.Select(r => r.DurablePerSecond), Si))
                .Append(" | ").Append(Cell(ok.Select(r => r.BatchesPerSecond!.Value), Si))
                .Append(" | ").Append(Cell(ok.Select(r => r.Accepted / (double)Math.Max(1, r.Batches!.Value)), v => v.ToString("0.0", CultureInfo.InvariantCulture)))
                .Append(" | ").Append(Cell(ok.Select(r => r.CpuMicrosPerIncrement), v => v.ToString("0.00", CultureInfo.InvariantCulture)))
                .Append(" | ").Append(ok.Any(r => r.LatencyP50Ms is null) ? "n/a" : Cell(ok.Select(r => r.LatencyP50Ms!.Value), Ms))
                .Append(" | ").Append(ok.Any(r => r.LatencyP99Ms is null) ? "n/a" : Cell(ok.Select(r => r.LatencyP99Ms!.Value), Ms))
                .Append(" | ").Append(ok.Any(r => r.SaveP99Ms is null) ? "n/a" : Cell(ok.Select(r => r.SaveP99Ms!.Value), Ms))
                .Append(" | ").Append(Ratio(Median(ok.Select(r => r.DurablePerSecond)), baseline))
                .Append(" | ").Append(ok.Any(r => r.AllocatedBytesPerIncrement is null) ? "n/a" : Cell(ok.Select(r => r.AllocatedBytesPerIncrement!.Value), v => v.ToString("0", CultureInfo.InvariantCulture)))
                .Append(" | ").Append(Cell(ok.Select(r => r.PeakWorkingSetMb), v => v.ToString("0", CultureInfo.InvariantCulture)))
                .Append(" | ").Append(outside is { } o ? $"{o.ToString("P0", CultureInfo.InvariantCulture)}{(o > OutsideLoadLimit ? " ⚠" : "")}" : "n/a")
                .AppendLine(" |");
        }

        foreach (var failed in rows.Where(r => r.Failures is not null))
            sb.AppendLine().Append(CultureInfo.InvariantCulture, $"{failed.System} round {failed.Round} failed operations: {failed.Failures}").AppendLine();
    }

    internal static string Cell(IEnumerable<double> values, Func<double, string> format)
    {
        var v = values.ToArray();
        return v.Length == 1 ? format(v[0]) : $"{format(Median(v))} ({format(v.Min())}–{format(v.Max())})";
    }

    internal static double Median(IEnumerable<double> values)
    {
        var v = values.Order().ToArray();
        if (v.Length == 0)
            return double.NaN;
        return v.Length % 2 == 1 ? v[v.Length / 2] : (v[v.Length / 2 - 1] + v[v.Length / 2]) / 2;
    }

    private static string Ratio(double value, double baseline) =>
        double.IsNaN(value) || double.IsNaN(baseline) || baseline == 0 ? "–" : (value / baseline).ToString("0.00×", CultureInfo.InvariantCulture);

    private static string Small(double value) => value.ToString(value >= 0.01 ? "0.###" : "0.#####", CultureInfo.InvariantCulture);

    internal static string Si(double value) => value switch
    {
        >= 1e6 => (value / 1e6).ToString("0.00", CultureInfo.InvariantCulture) + "M",
        >= 1e3 => (value / 1e3).ToString("0.0", CultureInfo.InvariantCulture) + "k",
        _ => value.ToString("0", CultureInfo.InvariantCulture),
    };
}
