using System.Globalization;

namespace Akka.WriteBehind.Benchmarks;

/// <summary>Command line of the load generator (parent) and of one measured round (child).</summary>
internal sealed record BenchOptions(
    string Scenario,
    int Rounds,
    bool Quick,
    string OutDir,
    int? Keys,
    long? Increments,
    TimeSpan? Duration,
    IReadOnlyList<string>? Systems,
    string? ChildSystem,
    int ChildRound)
{
    public const string Usage = """
        usage: dotnet run -c Release --project tests/Akka.WriteBehind.Benchmarks -- <scenario> [options]
          scenario          uniform | zipf-0.99 | zipf-1.2 | burst | latency | batches | idle-keys | refresh | recovery | http | all
          --rounds N        rounds per system, each a fresh process, systems interleaved A B A B (default 3, quick 1)
          --quick           small sizes for a CI smoke run (well under a minute)
          --out DIR         where the Markdown table and the JSON file go (default artifacts/bench)
          --keys N          number of keys (default per scenario: 10,000 uniform/burst, 100,000 zipf; refresh: items, 20,000, quick 2,000;
                            recovery: 20,000, quick 2,000)
          --increments N    increments per round (default 2,000,000; quick 50,000)
          --duration T      time cap of the slow systems (write-through) and length of burst runs, e.g. 10s (default 10s; quick 1s);
                            refresh: the measured window (default 60s, quick 10s, at least 4 cycles); http: the load window (default 15s, quick 3s)
          --systems a,b     only these systems (default: all of the scenario)
          --pg CONN         PostgreSQL connection string: adds write-through-pg to uniform and zipf (or set WRITEBEHIND_BENCH_PG)
          --rate N          latency: open-loop increments/s (default: half the peak of ours-tell, measured first in a short closed-loop round);
                            refresh: the configured tps (default 5,000, quick 1,000); batches: open-loop operations/s for --duration
                            (default 10s, quick 3s) instead of a closed loop
          --in-flight N     batches: operations waiting for their answers at most (default 1,000)
          --batch-config H  batches: HOCON laid over akka.write-behind.batches of the batches-* systems, e.g. "early-close = on"
          --counter-config H  HOCON laid over akka.write-behind.counters of the in-process ours-* systems, e.g. "journal.group-window = 5ms"
          --burst N         refresh: the configured burst (default tps / 100, at least 10: 10 ms of budget)
          --cold            no warm-up: latency: the first touch of every key falls in the measured window; uniform, zipf-*,
                            batches: no warm-up on other keys (200,000 increments or operations over 1,000 bench:warm: keys,
                            quick 10,000 over 100, closed loop also before a paced batches run, at most 3 s where --duration
                            stops a system): start-up and JIT fall in the measured window
          --connections N   http: keep-alive connections, one concurrent sender each (default 64, quick 16);
                            --keys defaults to 1,000 there and --increments (default 10,000,000) bounds a round's count
          --api-key KEY     http: sent as "Authorization: Bearer KEY" (or set WRITEBEHIND_BENCH_API_KEY); the Host gets it as WRITEBEHIND_API_KEY
        """;

    /// <summary>Environment variable of <c>--api-key</c> (children read it from there: not on their command line).</summary>
    public const string ApiKeyVariable = "WRITEBEHIND_BENCH_API_KEY";

    /// <summary>Open-loop rate of the latency scenario (increments/s); <c>null</c> = half the peak the parent measures first.</summary>
    public double? Rate { get; init; }

    /// <summary>PostgreSQL connection string for <c>write-through-pg</c> (children get it through the environment variable).</summary>
    public string? Pg { get; init; }

    /// <summary>Whether <c>--rate</c> was given (the refresh scenario's tps is not the rate the parent measures for latency).</summary>
    public bool RateGiven { get; init; }

    /// <summary>refresh: the configured <c>burst</c>; <c>null</c> = tps / 100, at least 10.</summary>
    public int? Burst { get; init; }

    /// <summary>
    /// Skip the warm-up: latency's (every key touched once and durable before the clock starts) and uniform's, zipf's and
    /// batches' (increments on other keys, durable and the tier-up settled before the clock starts: <see cref="WarmUpPlan"/>).
    /// </summary>
    public bool Cold { get; init; }

    /// <summary>batches: operations in flight at most; <c>null</c> = 1,000.</summary>
    public int? InFlight { get; init; }

    /// <summary>batches: HOCON laid over <c>akka.write-behind.batches</c> of the <c>batches-*</c> systems.</summary>
    public string? BatchConfig { get; init; }

    /// <summary>HOCON laid over <c>akka.write-behind.counters</c> of the in-process <c>ours-*</c> systems.</summary>
    public string? CounterConfig { get; init; }
    /// <summary>http: keep-alive connections of the load generator; <c>null</c> = the scenario's default.</summary>
    public int? Connections { get; init; }

    /// <summary>http: bearer token of every request; <c>null</c> = none.</summary>
    public string? ApiKey { get; init; }

    public bool IsChild => ChildSystem is not null;

    public static BenchOptions Parse(string[] args)
    {
        string? scenario = null;
        int? rounds = null;
        var quick = false;
        var outDir = "artifacts/bench";
        int? keys = null;
        long? increments = null;
        TimeSpan? duration = null;
        IReadOnlyList<string>? systems = null;
        string? child = null;
        var childRound = 0;
        double? rate = null;
        string? pg = null;
        int? burst = null;
        var cold = false;
        int? inFlight = null;
        string? batchConfig = null;
        string? counterConfig = null;
        int? connections = null;
        string? apiKey = null;

        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{arg} needs a value");
            switch (arg)
            {
                case "--rounds": rounds = PositiveInt(arg, Value()); break;
                case "--quick": quick = true; break;
                case "--out": outDir = Value(); break;
                case "--keys": keys = PositiveInt(arg, Value()); break;
                case "--increments": increments = PositiveInt(arg, Value()); break;
                case "--duration": duration = ParseDuration(Value()); break;
                case "--systems": systems = Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries); break;
                case "--child": child = Value(); break;
                case "--child-round": childRound = PositiveInt(arg, Value()); break;
                case "--rate": rate = PositiveInt(arg, Value()); break;
                case "--pg": pg = Value(); break;
                case "--burst": burst = PositiveInt(arg, Value()); break;
                case "--cold": cold = true; break;
                case "--in-flight": inFlight = PositiveInt(arg, Value()); break;
                case "--batch-config": batchConfig = Value(); break;
                case "--counter-config": counterConfig = Value(); break;
                case "--connections": connections = PositiveInt(arg, Value()); break;
                case "--api-key": apiKey = Value(); break;
                default:
                    if (arg.StartsWith("--", StringComparison.Ordinal) || scenario is not null)
                        throw new ArgumentException($"unknown argument {arg}");
                    scenario = arg;
                    break;
            }
        }

        if (scenario is null)
            throw new ArgumentException("a scenario is required");
        if (scenario != "all" && !Scenarios.Names.Contains(scenario))
            throw new ArgumentException($"unknown scenario {scenario}; use one of {string.Join(", ", Scenarios.Names)} or all");

        return new BenchOptions(scenario, rounds ?? (quick ? 1 : 3), quick, outDir, keys, increments, duration, systems, child, childRound) 
        {
            Rate = rate, Pg = pg, RateGiven = rate is not null, Burst = burst, Cold = cold, Connections = connections,
            ApiKey = apiKey ?? (Environment.GetEnvironmentVariable(ApiKeyVariable) is { Length: > 0 } key ? key : null),
            InFlight = inFlight, BatchConfig = batchConfig, CounterConfig = counterConfig,
        };
    }

    /// <summary>The arguments that make a child process run one round of <paramref name="system"/> in <paramref name="scenario"/>.</summary>
    public IEnumerable<string> ChildArgs(string scenario, string system, int round)
    {
        yield return scenario;
        if (Quick)
            yield return "--quick";
        if (Keys is { } k)
            foreach (var a in new[] { "--keys", k.ToString(CultureInfo.InvariantCulture) })
                yield return a;
        if (Increments is { } n)
            foreach (var a in new[] { "--increments", n.ToString(CultureInfo.InvariantCulture) })
                yield return a;
        if (Duration is { } d)
            foreach (var a in new[] { "--duration", $"{(long)d.TotalMilliseconds}ms" })
                yield return a;
        if (Rate is { } r && (scenario is not ("refresh" or "batches") || RateGiven))
            foreach (var a in new[] { "--rate", ((long)r).ToString(CultureInfo.InvariantCulture) })
                yield return a;
        if (Burst is { } b)
            foreach (var a in new[] { "--burst", b.ToString(CultureInfo.InvariantCulture) })
                yield return a;
        if (Cold)
            yield return "--cold";
        if (InFlight is { } f)
            foreach (var a in new[] { "--in-flight", f.ToString(CultureInfo.InvariantCulture) })
                yield return a;
        if (BatchConfig is { } h)
            foreach (var a in new[] { "--batch-config", h })
                yield return a;
        if (CounterConfig is { } cc)
            foreach (var a in new[] { "--counter-config", cc })
                yield return a;
        if (Connections is { } c)
            foreach (var a in new[] { "--connections", c.ToString(CultureInfo.InvariantCulture) })
                yield return a;
        yield return "--out";
        yield return OutDir;
        yield return "--child";
        yield return system;
        yield return "--child-round";
        yield return round.ToString(CultureInfo.InvariantCulture);
    }

    private static int PositiveInt(string name, string value) =>
        int.TryParse(value.Replace("_", "", StringComparison.Ordinal), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n > 0
            ? n
            : throw new ArgumentException($"{name} must be a positive integer, not {value}");

    internal static TimeSpan ParseDuration(string value)
    {
        static double Number(string s) => double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture);
        if (value.EndsWith("ms", StringComparison.Ordinal))
            return TimeSpan.FromMilliseconds(Number(value[..^2]));
        if (value.EndsWith('s'))
            return TimeSpan.FromSeconds(Number(value[..^1]));
        if (value.EndsWith('m'))
            return TimeSpan.FromMinutes(Number(value[..^1]));
        return TimeSpan.FromSeconds(Number(value));
    }
}
