namespace Akka.WriteBehind.Benchmarks;

/// <summary>An open-loop send schedule: <see cref="BurstFactor"/> × <see cref="Rate"/> for <see cref="BurstLength"/>, then <see cref="Rate"/>.</summary>
/// <param name="Rate">Increments per second after the burst.</param>
/// <param name="BurstFactor">Rate multiplier during the burst.</param>
/// <param name="BurstLength">How long the burst lasts, from the first increment.</param>
/// <param name="Length">Length of the whole run.</param>
internal sealed record RatePlan(double Rate, double BurstFactor, TimeSpan BurstLength, TimeSpan Length)
{
    public long BurstIncrements => (long)(Rate * BurstFactor * BurstLength.TotalSeconds);

    public long Increments => BurstIncrements + (long)(Rate * (Length - BurstLength).TotalSeconds);

    /// <summary>When increment <paramref name="i"/> is meant to be sent, from the start of the run (no coordinated omission).</summary>
    public double IntendedSeconds(long i) =>
        i < BurstIncrements
            ? i / (Rate * BurstFactor)
            : BurstLength.TotalSeconds + (i - BurstIncrements) / Rate;
}

/// <summary>
/// uniform, zipf-*, batches: what every system gets before the clock starts, on keys of its own (<c>bench:warm:&lt;i&gt;</c>), so
/// the measured keys stay cold (no entity, grain or row cache for them) while the process's code is jitted and tiered up.
/// </summary>
/// <param name="Keys">Warm-up keys, split evenly over the passes.</param>
/// <param name="Increments">Warm-up increments (delta 1 each, batches: Deposit(1); closed loop, uniform over a pass's keys), split evenly too.</param>
/// <param name="PassCount">
/// Passes, each on new keys, each followed by the durable wait and the tier-up settling. The runtime starts counting calls
/// for tier 1 only once it has compiled no new method for a while, so paths that run while keys are new (entity and grain
/// creation) are counted in a later pass, not in the busy first one.
/// </param>
/// <param name="Cap">
/// The warm-up's own time cap, shared by its passes, passed where the measured round passes <see cref="Scenario.SlowCap"/>:
/// a system that stops after its cap (write-through) warms up for at most this long, so it does not eat its measured window.
/// </param>
/// <param name="TierUpLimit">The longest wait for the tier-up to settle after a pass (one that keeps compiling is measured anyway).</param>
/// <param name="SettleLimit">
/// After the passes, the longest wait for a system's own one-time work the warm-up set off (<see cref="Systems.IWarmUpSettle"/>:
/// a shard log's first trim comes at most its trim interval, 10 s, after the node started); zero: none.
/// </param>
internal sealed record WarmUpPlan(int Keys, long Increments, int PassCount, TimeSpan Cap, TimeSpan TierUpLimit, TimeSpan SettleLimit)
{
    public const string KeyPrefix = "bench:warm:";

    /// <summary>
    /// The warm-up of a full run (200,000 increments over 1,000 keys in two passes) and of <c>--quick</c> (10,000 over 100
    /// in one, settling at most 0.5 s and waiting for no system's own work: a smoke run); the cap 3 s, never longer than the
    /// measured round's.
    /// </summary>
    public static WarmUpPlan For(bool quick, TimeSpan slowCap)
    {
        var cap = slowCap < TimeSpan.FromSeconds(3) ? slowCap : TimeSpan.FromSeconds(3);
        return quick
            ? new WarmUpPlan(100, 10_000, 1, cap, TimeSpan.FromSeconds(0.5), TimeSpan.Zero)
            : new WarmUpPlan(1_000, 200_000, 2, cap, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(15));
    }

    /// <summary>Each pass's share of <see cref="Cap"/>.</summary>
    public TimeSpan PassCap => Cap / PassCount;

    /// <summary>Warm-up key names: under <c>bench:</c>, so the durable wait counts them, and never a measured key.</summary>
    public string[] KeyNames() => Enumerable.Range(0, Keys).Select(k => $"{KeyPrefix}{k}").ToArray();

    /// <summary>Each pass's keys (a slice of <paramref name="keyNames"/>) and its increments' key indexes, the same for every system.</summary>
    public IEnumerable<(string[] Keys, int[] Sequence)> Passes(string[] keyNames)
    {
        var random = new Random(9);
        var keysPerPass = Keys / PassCount;
        for (var pass = 0; pass < PassCount; pass++)
        {
            var sequence = new int[Increments / PassCount];
            for (var i = 0; i < sequence.Length; i++)
                sequence[i] = random.Next(keysPerPass);
            yield return (keyNames[(pass * keysPerPass)..((pass + 1) * keysPerPass)], sequence);
        }
    }

    /// <summary>How the report's heading says it, counting <paramref name="what"/> (increments, or batches' operations).</summary>
    public string Describe(string what) => $"after a warm-up on other keys ({Increments:N0} {what} over {Keys:N0} keys" +
        (PassCount > 1 ? $", in {PassCount} passes" : "") + ")";
}

/// <summary>One workload: keys, how increments are spread over them, how many, and at what pace.</summary>
/// <param name="Name">Scenario name on the command line.</param>
/// <param name="Keys">Number of distinct keys.</param>
/// <param name="Increments">Increments per round (each of delta 1).</param>
/// <param name="ZipfS">Zipf exponent; 0 = uniform.</param>
/// <param name="Rate">Open-loop schedule; <c>null</c> = closed loop, as fast as the system takes them.</param>
/// <param name="SlowCap">Time cap of systems that cannot finish the workload in reasonable time (write-through).</param>
/// <param name="FlushInterval">Flush interval of the write-behind systems.</param>
/// <param name="Systems">Systems measured, in interleaving order.</param>
internal sealed record Scenario(
    string Name,
    int Keys,
    long Increments,
    double ZipfS,
    RatePlan? Rate,
    TimeSpan SlowCap,
    TimeSpan FlushInterval,
    IReadOnlyList<string> Systems)
{
    /// <summary>idle-keys: idle passivation of the systems that passivate; <c>null</c> = their default.</summary>
    public TimeSpan? PassivateIdleAfter { get; init; }

    /// <summary>refresh: the configured <c>tps</c> (syncs per second) of the refresh cache.</summary>
    public int RefreshTps { get; init; }

    /// <summary>refresh: the configured <c>burst</c>.</summary>
    public int RefreshBurst { get; init; }

    /// <summary>refresh: the configured <c>resync-period</c> (short: cycles are bound by the rate limit, not by the period).</summary>
    public TimeSpan ResyncPeriod { get; init; }

    /// <summary>refresh: the measured window after every item exists and was synced once.</summary>
    public TimeSpan Window { get; init; }

    /// <summary>http: keep-alive connections of the load generator (one concurrent sender each).</summary>
    public int Connections { get; init; }

    /// <summary>
    /// latency: before the clock starts every key gets one increment (closed loop) and the round waits until they are durable,
    /// so entity activations, row loads and grain activations are not in the measured window (<c>--cold</c> turns it off).
    /// </summary>
    public bool WarmUp { get; init; }

    /// <summary>
    /// uniform, zipf-*, batches: the warm-up on other keys before the clock (<see cref="WarmUpPlan"/>); <c>null</c> = a cold process
    /// (<c>--cold</c>), or a scenario that has none.
    /// </summary>
    public WarmUpPlan? OtherKeysWarmUp { get; init; }

    /// <summary>
    /// The heading's words on warming up: the latency warm-up (measured keys) or the warm-up on other keys (uniform,
    /// zipf-*, batches), or that the process is cold; empty for the scenarios that measure start-up on purpose.
    /// </summary>
    public string WarmUpSummary => Name switch
    {
        "latency" => WarmUp
            ? "after a warm-up (every key once and durable before the clock)"
            : "cold (--cold: every key's first touch in the measured window)",
        _ when Scenarios.WarmsUpOnOtherKeys(Name) =>
            OtherKeysWarmUp?.Describe(Name == "batches" ? "operations" : "increments") ?? "cold process (--cold)",
        _ => "",
    };

    /// <summary>batches: operations waiting for their answers at most (the sender's window).</summary>
    public int InFlight { get; init; } = 1_000;

    /// <summary>batches: HOCON laid over <c>akka.write-behind.batches</c> of the <c>batches-*</c> systems (<c>--batch-config</c>).</summary>
    public string? BatchConfig { get; init; }

    /// <summary>HOCON laid over <c>akka.write-behind.counters</c> of the in-process <c>ours-*</c> systems (<c>--counter-config</c>).</summary>
    public string? CounterConfig { get; init; }

    public string Distribution => Name switch
    {
        "idle-keys" => $"each key {Scenarios.IdleIncrementsPerKey}×, in key order",
        "recovery" => $"each key {Scenarios.RecoveryIncrementsPerKey}× (IncrementAsync, journal durability), then a crash",
        "refresh" => "every item synced once per cycle",
        "http" => "uniform (a fixed hash of the increment's index)",
        _ => ZipfS == 0 ? "uniform" : $"zipf s={ZipfS:0.##}",
    };

    /// <summary>One line for the console and the report's heading.</summary>
    public string Summary => SummaryOfScenario + (CounterConfig is { } counters ? $", counters {{ {counters} }}" : "");

    private string SummaryOfScenario => Name switch
    {
        "refresh" => $"{Keys:N0} items, tps {RefreshTps:N0}, burst {RefreshBurst:N0}, resync-period {ResyncPeriod.TotalMilliseconds:0} ms, batch-size 10, parallelism 4, measured over {Window.TotalSeconds:0} s",
        "recovery" => $"{Keys:N0} keys, {Distribution}, {Increments:N0} increments, flush interval {FlushInterval.TotalSeconds:0.###} s after the restart",
        "batches" => $"{Keys:N0} accounts, {Distribution}, {Increments:N0} operations, {InFlight:N0} in flight" +
                     (Rate is { } r ? $", open loop at {r.Rate:N0}/s" : ", closed loop") + (BatchConfig is { } c ? $", batches {{ {c} }}" : "") +
                     $", {WarmUpSummary}",
        "http" => $"{Keys:N0} keys, {Distribution}, {Connections} keep-alive connections, {Window.TotalSeconds:0.#} s a round (at most {Increments:N0} increments), flush interval {FlushInterval.TotalSeconds:0.###} s",
        _ => $"{Keys:N0} keys, {Distribution}, {Increments:N0} increments" + (WarmUpSummary is { Length: > 0 } w ? $", {w}" : ""),
    };
}

internal static class Scenarios
{
    public static readonly IReadOnlyList<string> Names = ["uniform", "zipf-0.99", "zipf-1.2", "burst", "latency", "batches", "idle-keys", "refresh", "recovery", "http"];

    /// <summary>
    /// The scenarios whose systems warm up on other keys first (<see cref="WarmUpPlan"/>): the closed-loop increment ones
    /// and batches (closed loop or paced, the warm-up is closed loop); not burst and idle-keys, which measure start-up and
    /// activation on purpose, nor latency, which warms up its own keys.
    /// </summary>
    public static bool WarmsUpOnOtherKeys(string scenario) => scenario is "uniform" or "zipf-0.99" or "zipf-1.2" or "batches";

    /// <summary>recovery: increments per key before the crash (two passes over every key in order: two journal events per key).</summary>
    public const int RecoveryIncrementsPerKey = 2;

    private static readonly string[] RecoverySystems = [BenchSystems.RecoverySweep, BenchSystems.RecoveryGet];

    private static readonly string[] IdleSystems = [BenchSystems.OursTell, BenchSystems.Dictionary, BenchSystems.Orleans];

    private static readonly string[] QuickIdle = [BenchSystems.OursTell, BenchSystems.Dictionary];

    /// <summary>idle-keys: increments per key (two passes over every key in order).</summary>
    public const int IdleIncrementsPerKey = 2;

    /// <summary>idle-keys: <c>passivate-idle-after</c> of the systems that passivate.</summary>
    /// <remarks>Long enough that the first pass's entities are still alive at the memory reading on a loaded machine (see the live column).</remarks>
    public static TimeSpan IdlePassivation(bool quick) => TimeSpan.FromSeconds(quick ? 10 : 120);

    private static readonly string[] BatchSystems = [Systems.BatchTarget.Memory, Systems.BatchTarget.Sqlite, Systems.WriteThroughOpsTarget.Name];

    /// <summary>Systems of the latency scenario: those whose store commits are logged (<see cref="CommitLog"/>); write-through cannot take half of ours' peak.</summary>
    private static readonly string[] LatencySystems = [BenchSystems.OursTell, BenchSystems.OursFast, BenchSystems.OursAsk, BenchSystems.Dictionary, BenchSystems.Orleans];

    private static readonly string[] QuickLatency = [BenchSystems.OursTell, BenchSystems.Dictionary];

    private static readonly string[] Closed =
        [BenchSystems.OursTell, BenchSystems.OursFast, BenchSystems.OursFastJournal, BenchSystems.OursAsk, BenchSystems.OursAskJournal, BenchSystems.OursDurable, BenchSystems.Dictionary, BenchSystems.WriteThroughFull, BenchSystems.WriteThroughNormal, BenchSystems.Orleans];

    private static readonly string[] Open = [BenchSystems.OursTell, BenchSystems.OursFast, BenchSystems.OursAsk, BenchSystems.OursAskJournal, BenchSystems.Dictionary, BenchSystems.Orleans];

    // --quick is a smoke run (CI): every system once on uniform, the cheap ones elsewhere, so the whole set stays under a minute
    private static readonly string[] QuickOthers = [BenchSystems.OursTell, BenchSystems.OursAsk, BenchSystems.Dictionary, BenchSystems.WriteThroughNormal];

    private static readonly string[] QuickOpen = [BenchSystems.OursTell, BenchSystems.OursAsk, BenchSystems.Dictionary];

    public static Scenario Get(string name, BenchOptions options)
    {
        var increments = options.Increments ?? (options.Quick ? 50_000 : 2_000_000);
        var cap = options.Duration ?? TimeSpan.FromSeconds(options.Quick ? 1 : 10);
        var flush = TimeSpan.FromSeconds(1);
        IReadOnlyList<string> Pick(string[] all) => options.Systems is { } only ? all.Where(only.Contains).ToArray() : all;
        // PostgreSQL write-through only when a server is given
        string[] WithPg(string[] all) => Systems.PostgresWriteThroughTarget.ConnectionString is null ? all : [.. all, Systems.PostgresWriteThroughTarget.Name];

        var scenario = name switch
        {
            "uniform" => new Scenario(name, options.Keys ?? 10_000, increments, 0, null, cap, flush, Pick(WithPg(Closed))),
            "zipf-0.99" => new Scenario(name, options.Keys ?? 100_000, increments, 0.99, null, cap, flush, Pick(WithPg(options.Quick ? QuickOthers : Closed))),
            "zipf-1.2" => new Scenario(name, options.Keys ?? 100_000, increments, 1.2, null, cap, flush, Pick(WithPg(options.Quick ? QuickOthers : Closed))),
            "burst" => Burst(options, cap, flush, Pick(options.Quick ? QuickOpen : Open)),
            "latency" => Latency(options, cap, flush, Pick(options.Quick ? QuickLatency : LatencySystems)),
            // Deposit(1) per operation on 100 accounts (1,000 in flight: ~10 operations per key wait for each batch)
            "batches" => Batches(options, cap, flush, Pick(BatchSystems)),
            // many keys, a few increments each (two passes in key order): memory per idle entity, activation, passivation
            "idle-keys" => IdleKeys(options, cap, flush, Pick(options.Quick ? QuickIdle : IdleSystems)),
            "refresh" => Refresh(options, cap, flush, Pick([BenchSystems.RefreshSqlite])),
            // K keys written with journal durability and never flushed (flush-interval 1h), a crash, then a fresh node recovers them
            "recovery" => new Scenario(name, options.Keys ?? (options.Quick ? 2_000 : 20_000),
                (long)(options.Keys ?? (options.Quick ? 2_000 : 20_000)) * RecoveryIncrementsPerKey, 0, null, cap, flush, Pick(RecoverySystems)),
            // the Host as its own process under HTTP load (Http/HttpRound), single and fan-out, journal and memory, and a write-through endpoint
            "http" => new Scenario(name, options.Keys ?? 1_000, options.Increments ?? 10_000_000, 0, null, cap, flush, Pick(Http.HttpSystems.All))
            {
                Connections = options.Connections ?? (options.Quick ? 16 : 64),
                Window = options.Duration ?? TimeSpan.FromSeconds(options.Quick ? 3 : 15),
            },
            _ => throw new ArgumentException($"unknown scenario {name}"),
        };
        // capped by the scenario's own cap (batches --rate: the paced run's length), so a capped system keeps its window
        if (WarmsUpOnOtherKeys(name) && !options.Cold)
            scenario = scenario with { OtherKeysWarmUp = WarmUpPlan.For(options.Quick, scenario.SlowCap) };
        return options.CounterConfig is { } counters ? scenario with { CounterConfig = counters } : scenario;
    }

    private static Scenario Burst(BenchOptions options, TimeSpan cap, TimeSpan flush, IReadOnlyList<string> systems)
    {
        // 10x the rate for the first 5 s (quick: 1 s) right after start, then the base rate
        var plan = options.Quick
            ? new RatePlan(10_000, 10, TimeSpan.FromSeconds(0.5), options.Duration ?? TimeSpan.FromSeconds(1.5))
            : new RatePlan(20_000, 10, TimeSpan.FromSeconds(5), options.Duration ?? TimeSpan.FromSeconds(15));
        return new Scenario("burst", options.Keys ?? 10_000, plan.Increments, 0, plan, cap, flush, systems);
    }

    /// <summary>batches: closed loop over a fixed number of operations, or open loop at <c>--rate</c> for <c>--duration</c>.</summary>
    private static Scenario Batches(BenchOptions options, TimeSpan cap, TimeSpan flush, IReadOnlyList<string> systems)
    {
        var keys = options.Keys ?? 100;
        var inFlight = options.InFlight ?? 1_000;
        if (options.RateGiven && options.Rate is { } rate)
        {
            var plan = new RatePlan(rate, 1, TimeSpan.Zero, options.Duration ?? TimeSpan.FromSeconds(options.Quick ? 3 : 10));
            // the write-through baseline runs the same schedule; it stops at the same length (it cannot fall further behind)
            return new Scenario("batches", keys, plan.Increments, 0, plan, plan.Length, flush, systems) { InFlight = inFlight, BatchConfig = options.BatchConfig };
        }

        return new Scenario("batches", keys, options.Increments ?? (options.Quick ? 20_000 : 200_000), 0, null, cap, flush, systems) { InFlight = inFlight, BatchConfig = options.BatchConfig };
    }

    private static Scenario IdleKeys(BenchOptions options, TimeSpan cap, TimeSpan flush, IReadOnlyList<string> systems)
    {
        var keys = options.Keys ?? (options.Quick ? 10_000 : 1_000_000);
        return new Scenario("idle-keys", keys, (long)keys * IdleIncrementsPerKey, 0, null, cap, flush, systems)
        {
            PassivateIdleAfter = IdlePassivation(options.Quick),
        };
    }

    private static Scenario Refresh(BenchOptions options, TimeSpan cap, TimeSpan flush, IReadOnlyList<string> systems)
    {
        // one cycle of N items takes N / tps (quick: 2 s, full: 4 s); resync-period 100 ms so the next cycle starts at most
        // 100 ms after one ends (ticks during a cycle are skipped): the cycles are bound by the rate limit
        var items = options.Keys ?? (options.Quick ? 2_000 : 20_000);
        var tps = (int)((options.RateGiven ? options.Rate : null) ?? (options.Quick ? 1_000 : 5_000));
        var cycle = TimeSpan.FromSeconds((double)items / tps);
        var window = options.Duration ?? TimeSpan.FromSeconds(Math.Max(options.Quick ? 10 : 60, 4 * cycle.TotalSeconds));
        return new Scenario("refresh", items, 0, 0, null, cap, flush, systems)
        {
            RefreshTps = tps,
            RefreshBurst = options.Burst ?? Math.Max(10, tps / 100),
            ResyncPeriod = TimeSpan.FromMilliseconds(100),
            Window = window,
        };
    }

    private static Scenario Latency(BenchOptions options, TimeSpan cap, TimeSpan flush, IReadOnlyList<string> systems)
    {
        // open loop at a fixed rate (no burst): intended send time of increment i = i / rate
        var rate = options.Rate ?? throw new ArgumentException("the latency scenario needs --rate (the parent measures a default)");
        var plan = new RatePlan(rate, 1, TimeSpan.Zero, options.Duration ?? TimeSpan.FromSeconds(options.Quick ? 5 : 30));
        return new Scenario("latency", options.Keys ?? 10_000, plan.Increments, 0, plan, cap, flush, systems) { WarmUp = !options.Cold };
    }

    /// <summary>The key index of every increment, the same for every system of a scenario (fixed seed).</summary>
    public static int[] Sequence(Scenario scenario)
    {
        if (scenario.Name == "http")
            return []; // the load generator picks each increment's key itself (HttpLoad.KeyIndex): a round is bounded by time
        var random = new Random(8);
        var sequence = new int[scenario.Increments];
        if (scenario.Name == "idle-keys")
        {
            for (var i = 0; i < sequence.Length; i++)
                sequence[i] = i % scenario.Keys;
            return sequence;
        }

        if (scenario.ZipfS == 0)
        {
            for (var i = 0; i < sequence.Length; i++)
                sequence[i] = random.Next(scenario.Keys);
            return sequence;
        }

        // inverse CDF over ranks 1..Keys with P(rank k) ∝ 1 / k^s; ranks are spread over key names by a fixed permutation
        var cdf = new double[scenario.Keys];
        var sum = 0.0;
        for (var k = 0; k < cdf.Length; k++)
            cdf[k] = sum += 1.0 / Math.Pow(k + 1, scenario.ZipfS);
        var permutation = Enumerable.Range(0, scenario.Keys).ToArray();
        random.Shuffle(permutation);
        for (var i = 0; i < sequence.Length; i++)
        {
            var rank = Array.BinarySearch(cdf, random.NextDouble() * sum);
            sequence[i] = permutation[Math.Min(rank < 0 ? ~rank : rank, cdf.Length - 1)];
        }

        return sequence;
    }

    public static string[] KeyNames(int keys) => Enumerable.Range(0, keys).Select(k => $"bench:{k}").ToArray();
}
