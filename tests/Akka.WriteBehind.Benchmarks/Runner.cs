using System.Diagnostics;
using System.Text.Json;

namespace Akka.WriteBehind.Benchmarks;

/// <summary>
/// The parent side: runs every round of every system in a fresh child process (this executable again, with
/// <c>--child</c>), systems interleaved A B C A B C so that drift in outside load spreads over all of them, and writes the report.
/// </summary>
internal static class Runner
{
    public static async Task<int> RunAsync(BenchOptions options)
    {
        // the child processes inherit it (not on their command line: it may hold a password)
        if (options.Pg is { } pg)
            Environment.SetEnvironmentVariable(Systems.PostgresWriteThroughTarget.EnvironmentVariable, pg);
        if (options.ApiKey is { } apiKey)
            Environment.SetEnvironmentVariable(BenchOptions.ApiKeyVariable, apiKey);

        if ((options.Scenario is "latency" or "all") && options.Rate is null)
        {
            var peak = await CalibrateAsync(options);
            if (peak is null)
                return 1;
            options = options with { Rate = Math.Max(100, Math.Round(peak.Value / 2 / 100) * 100) };
            Console.WriteLine($"== latency rate: {options.Rate:N0}/s (half of ours-tell's measured peak {peak:N0}/s; --rate sets it)");
        }

        var scenarios = (options.Scenario == "all" ? Scenarios.Names : [options.Scenario])
            .Select(name => Scenarios.Get(name, options))
            .ToArray();
        // idle-keys in full: 1,000,000 keys, two passes, then the passivation wait
        var childTimeout = TimeSpan.FromSeconds(options.Quick ? 90 : options.Scenario is "idle-keys" or "recovery" or "all" ? 1200 : 300)
            + (options.Duration is { } window && window > TimeSpan.FromSeconds(30) ? window : TimeSpan.Zero); // refresh: its window
        var results = new List<RoundResult>();
        var started = DateTimeOffset.UtcNow;

        foreach (var scenario in scenarios)
        {
            Console.WriteLine($"== {scenario.Name}: {scenario.Summary}, {options.Rounds} round(s)");
            for (var round = 1; round <= options.Rounds; round++)
            {
                foreach (var system in scenario.Systems)
                {
                    var result = await RunChildAsync(options, scenario.Name, system, round, childTimeout);
                    results.Add(result);
                    Console.WriteLine(result.Error is not null
                        ? $"   {system,-22} round {round}: FAILED: {result.Error}"
                        : result.TpsRatio is { } ratio
                        ? $"   {system,-22} round {round}: creates {result.IngestPerSecond,8:N0}/s  syncs {result.SyncsPerSecond,8:N0}/s = {ratio:0.000} × tps {result.RefreshTps:N0}  " +
                          $"cycles {result.CyclesCompleted} (skipped {result.CyclesSkipped})  syncs/item {result.SyncsPerItemMin}..{result.SyncsPerItemMax}  cpu {result.CpuMicrosPerIncrement:N1} µs/sync  outside {result.OutsideLoad:P0}  verified {result.DatabaseTotal:N0} items"
                        : result.Http is not null
                        ? Http.HttpReport.ConsoleLine(result)
                        : result.RecoveredKeysPerSecond is { } recovered
                        ? $"   {system,-22} round {round}: {result.EventsReplayed:N0} events, recovered {recovered,8:N0} keys/s in {result.RecoverySeconds:0.00} s" +
                          $"{(result.AnsweredKeysPerSecond is { } answered ? $", GetCounter {answered:N0} keys/s" : "")}  cpu {result.CpuMicrosPerIncrement:N0} µs/key  outside {result.OutsideLoad:P0}  verified {result.DatabaseTotal:N0}"
                        : $"   {system,-22} round {round}: ingest {result.IngestPerSecond,12:N0}/s  durable {result.DurablePerSecond,12:N0}/s  " +
                          $"cpu {result.CpuMicrosPerIncrement,7:N2} µs/inc  rows/inc {result.RowsPerIncrement:0.####}  outside {result.OutsideLoad:P0}  verified {result.DatabaseTotal:N0}  gc {result.Gc}  alloc {result.AllocatedBytesPerIncrement:N0} B/inc  " +
                          $"jit {result.JitMethodsInRound:N0} methods {result.JitMillisecondsInRound:N0} ms" +
                          (result.WarmUpIncrements is { } warmed ? $"  warm-up {warmed:N0} in {result.WarmUpSeconds:0.0} s" : ""));
                }
            }
        }

        var report = new Report(started, options, scenarios, results);
        var files = await report.WriteAsync(options.OutDir);
        Console.WriteLine();
        Console.WriteLine(report.Markdown());
        Console.WriteLine($"written: {string.Join(", ", files)}");

        var failed = results.Where(r => r.Error is not null).ToArray();
        if (failed.Length == 0)
            return 0;
        Console.Error.WriteLine($"{failed.Length} round(s) failed (crash, timeout or database total wrong):");
        foreach (var f in failed)
            Console.Error.WriteLine($"  {f.Scenario}/{f.System} round {f.Round}: {f.Error}");
        return 1;
    }

    /// <summary>
    /// The peak the latency scenario's default rate is half of: ingest/s of one short closed-loop <c>uniform</c> round of
    /// <c>ours-tell</c> (fresh process, like every round; quick: 50,000 increments, else 200,000).
    /// </summary>
    private static async Task<double?> CalibrateAsync(BenchOptions options)
    {
        // cold, as the latency rate has always been calibrated: uniform's warm-up on other keys would raise the peak
        var probe = options with { Keys = null, Increments = options.Quick ? 50_000 : 200_000, Duration = null, Cold = true };
        var result = await RunChildAsync(probe, "uniform", BenchSystems.OursTell, 1, TimeSpan.FromSeconds(options.Quick ? 90 : 300));
        if (result.Error is null)
            return result.IngestPerSecond;
        Console.Error.WriteLine($"latency: measuring the peak failed ({result.Error}); give --rate");
        return null;
    }

    /// <summary>
    /// Systems whose rounds run workstation GC instead of the benchmark's Server GC: a baseline measured faster with it gets
    /// it, so that no peer is weakened by the set-up ours is measured in. Empty: every system measured ran at least as fast
    /// with Server GC (docs/batches.md, "GC mode").
    /// </summary>
    internal static readonly IReadOnlySet<string> WorkstationGcSystems = new HashSet<string>();

    private static async Task<RoundResult> RunChildAsync(BenchOptions options, string scenario, string system, int round, TimeSpan timeout)
    {
        var self = Environment.ProcessPath ?? throw new InvalidOperationException("no process path");
        var start = new ProcessStartInfo(self)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // run as "dotnet Benchmarks.dll": the process path is the dotnet host, the assembly goes first
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
            start.ArgumentList.Add(typeof(Runner).Assembly.Location);
        foreach (var arg in options.ChildArgs(scenario, system, round))
            start.ArgumentList.Add(arg);
        // the runtime reads DOTNET_gcServer before the runtimeconfig's ServerGarbageCollection
        if (WorkstationGcSystems.Contains(system))
            start.Environment["DOTNET_gcServer"] = "0";

        var failure = new RoundResult(scenario, system, round, 0, 0, 0, 0, 0, false, 0, 0, 0, 0, 0, 0, 0, 0, 0, null, null);
        using var child = Process.Start(start) ?? throw new InvalidOperationException($"could not start {self}");
        var stderr = child.StandardError.ReadToEndAsync();
        RoundResult? result = null;
        var output = ReadResultAsync(child, r => result = r);
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await child.WaitForExitAsync(cts.Token);
            await output;
        }
        catch (OperationCanceledException)
        {
            child.Kill(entireProcessTree: true);
            return failure with { Error = $"timed out after {timeout.TotalSeconds:0} s" };
        }

        var errors = await stderr;
        if (result is null)
            return failure with { Error = $"exit code {child.ExitCode}, no result; stderr: {Tail(errors)}" };
        if (child.ExitCode != 0 && result.Error is null)
            return result with { Error = $"exit code {child.ExitCode}; stderr: {Tail(errors)}" };
        return result;
    }

    private static async Task ReadResultAsync(Process child, Action<RoundResult> onResult)
    {
        while (await child.StandardOutput.ReadLineAsync() is { } line)
        {
            if (line.StartsWith(Round.ResultPrefix, StringComparison.Ordinal))
                onResult(JsonSerializer.Deserialize<RoundResult>(line[Round.ResultPrefix.Length..], Report.Json)!);
        }
    }

    private static string Tail(string text) => text.Length <= 2000 ? text.Trim() : "…" + text[^2000..].Trim();
}
