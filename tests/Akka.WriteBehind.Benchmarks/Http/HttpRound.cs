using System.Diagnostics;
using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Akka.WriteBehind.Benchmarks.Http;

/// <summary>The http scenario's own figures of one round (the shared ones are in <see cref="RoundResult"/>).</summary>
/// <param name="Connections">Keep-alive connections (and concurrent senders).</param>
/// <param name="ItemsPerRequest">Increments per request.</param>
/// <param name="Requests">Requests sent in the window.</param>
/// <param name="RequestsPerSecond">Requests ÷ the window.</param>
/// <param name="NoAnswer">Increments whose request got no answer (client timeout, connection error).</param>
/// <param name="NonSuccess">Non-2xx answers by status: requests (single increments) or items (fan-out).</param>
/// <param name="ServerCores">Server CPU time ÷ the window: cores the server used.</param>
/// <param name="ClientCpuMicrosPerIncrement">The load generator's CPU per acknowledged increment, µs.</param>
/// <param name="LatencyP50Ms">Request round trip, median, ms.</param>
/// <param name="LatencyP99Ms">Request round trip, 99th percentile, ms.</param>
/// <param name="ServerExitCode">The server's exit code after SIGTERM.</param>
/// <param name="FirstError">The first failure without an answer, if any.</param>
internal sealed record HttpFigures(
    int Connections,
    int ItemsPerRequest,
    long Requests,
    double RequestsPerSecond,
    long NoAnswer,
    IReadOnlyDictionary<string, long> NonSuccess,
    double ServerCores,
    double ClientCpuMicrosPerIncrement,
    double LatencyP50Ms,
    double LatencyP99Ms,
    int ServerExitCode,
    string? FirstError);

/// <summary>
/// One round of the http scenario (in the child process, which is the load generator): starts the server as its own
/// process on free loopback ports with a data directory under the output directory, warms it up on other keys, runs the
/// load for the window, waits until the database holds every acknowledged increment, stops the server with SIGTERM and
/// verifies per key: acknowledged ≤ stored ≤ sent. CPU per increment is the server's.
/// </summary>
internal static class HttpRound
{
    /// <summary>The Host's line once its cluster member is up (it names the HTTP address bound).</summary>
    public const string HostUpLinePrefix = "Akka.WriteBehind node up:";

    private const int WarmKeys = 100;
    private const int QuickWarmRequestsPerConnection = 10;

    /// <summary><c>--quick</c>: no warm-up request starts after this long (a smoke run: the request path runs once before the clock).</summary>
    private static readonly TimeSpan QuickWarmUpCap = TimeSpan.FromSeconds(3);

    /// <summary>
    /// A full run's warm-up, every server alike: the round's own load on the warm-up keys for this long, so that the window
    /// measures a running server. The runtime keeps compiling its tier-up for about 8 s of this load (after a 3 s warm-up
    /// the JIT compiler took a tenth of the Host's samples in the window, after this one 3 %), and a journal Host's shard
    /// log runs its first trim, whose query is built once, 10 s after it starts.
    /// </summary>
    private static readonly TimeSpan SteadyWarmUp = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan DurableTimeout = TimeSpan.FromSeconds(120);
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);

    public static async Task<RoundResult> RunAsync(Scenario scenario, string system, BenchOptions options, RoundResult result)
    {
        var keys = Scenarios.KeyNames(scenario.Keys);
        var warmKeys = Enumerable.Range(0, WarmKeys).Select(k => $"warm:{k}").ToArray();
        var writeThrough = system == HttpSystems.WriteThrough;
        var items = HttpSystems.ItemsPerRequest(system);
        var stamp = DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
        var dataDir = Path.Combine(Path.GetFullPath(options.OutDir), "http-data", $"{system}-r{options.ChildRound}-{stamp}");
        Directory.CreateDirectory(dataDir);
        var dbFile = Path.Combine(dataDir, writeThrough ? "counters.db" : "writebehind.db");
        var keep = true;
        ServerProcess? server = null;
        try
        {
            if (writeThrough)
                await CreateRowsAsync(dbFile, [.. keys, .. warmKeys]);
            server = writeThrough
                ? await ServerProcess.StartAsync(WriteThroughStart(dbFile, options.ApiKey), WriteThroughServer.UpLinePrefix)
                : await ServerProcess.StartAsync(HostStart(dataDir, system, scenario, options.ApiKey), HostUpLinePrefix);
            using var client = HttpLoad.CreateClient(server.BaseAddress, scenario.Connections, options.ApiKey);

            // opens every connection and runs the request path before the clock (JIT, pools, the Host's shard region)
            var warm = await HttpLoad.RunAsync(client, new HttpLoadPlan(server.BaseAddress, warmKeys, items, scenario.Connections,
                options.Quick ? QuickWarmUpCap : SteadyWarmUp,
                options.Quick ? (long)scenario.Connections * QuickWarmRequestsPerConnection * items : long.MaxValue, options.ApiKey));
            if (warm.Acknowledged == 0)
                throw new InvalidOperationException(
                    $"warm-up: nothing acknowledged ({Statuses(warm.Statuses)}; {warm.FirstError})\n{server.Tail()}");

            using var self = Process.GetCurrentProcess();
            self.Refresh();
            var clientCpuBefore = self.TotalProcessorTime;
            var serverCpuBefore = server.Cpu;
            var statBefore = ProcStat.Read();
            var load = await HttpLoad.RunAsync(client, new HttpLoadPlan(server.BaseAddress, keys, items, scenario.Connections,
                scenario.Window, scenario.Increments, options.ApiKey));
            var serverCpu = server.Cpu - serverCpuBefore;
            self.Refresh();
            var clientCpu = self.TotalProcessorTime - clientCpuBefore;
            var outside = ProcStat.OutsideLoad(statBefore, ProcStat.Read(), serverCpu + clientCpu);

            var wait = Stopwatch.StartNew();
            await WaitStoredAsync(dbFile, load.AcknowledgedPerKey);
            var durable = load.Elapsed + wait.Elapsed;
            var peak = server.PeakWorkingSetMb;
            var exitCode = await server.StopAsync();
            var stored = await ReadStoredAsync(dbFile, keys.Length);
            var problem = Check(load, stored) ?? (exitCode != 0 ? $"the server exited with code {exitCode} after SIGTERM" : null);
            keep = problem is not null;

            var acknowledged = Math.Max(1, load.Acknowledged);
            return result with
            {
                Sent = load.Sent,
                Accepted = load.Acknowledged,
                Rejected = load.Refused,
                DatabaseTotal = stored.Sum(),
                Verified = problem is null,
                IngestSeconds = load.Elapsed.TotalSeconds,
                DurableSeconds = durable.TotalSeconds,
                IngestPerSecond = load.Acknowledged / load.Elapsed.TotalSeconds,
                DurablePerSecond = load.Acknowledged / durable.TotalSeconds,
                CpuMicrosPerIncrement = serverCpu.TotalMicroseconds / acknowledged,
                PeakWorkingSetMb = peak,
                OutsideLoad = outside,
                Error = problem,
                Http = new HttpFigures(
                    scenario.Connections,
                    items,
                    load.Requests,
                    load.Requests / load.Elapsed.TotalSeconds,
                    load.NoAnswer,
                    load.Statuses,
                    serverCpu / load.Elapsed,
                    clientCpu.TotalMicroseconds / acknowledged,
                    load.Latency.GetValueAtPercentile(50) / 1000.0,
                    load.Latency.GetValueAtPercentile(99) / 1000.0,
                    exitCode,
                    load.FirstError),
            };
        }
        finally
        {
            if (server is not null)
            {
                if (keep)
                    await File.WriteAllLinesAsync(Path.Combine(dataDir, "server-output.log"), server.Output);
                server.Dispose();
            }

            SqliteConnection.ClearAllPools();
            if (!keep)
                Directory.Delete(dataDir, recursive: true);
        }
    }

    /// <summary>Every key: acknowledged ≤ stored ≤ sent. Returns what is wrong, or <c>null</c>.</summary>
    internal static string? Check(HttpLoadResult load, long[] stored)
    {
        var lost = Enumerable.Range(0, stored.Length).Where(k => stored[k] < load.AcknowledgedPerKey[k]).ToArray();
        var extra = Enumerable.Range(0, stored.Length).Where(k => stored[k] > load.SentPerKey[k]).ToArray();
        if (lost.Length == 0 && extra.Length == 0)
            return null;
        string Sample(int[] ks) => string.Join(", ", ks.Take(3).Select(k =>
            $"bench:{k} acknowledged {load.AcknowledgedPerKey[k]} stored {stored[k]} sent {load.SentPerKey[k]}"));
        return $"stored totals do not match: {lost.Length} key(s) below their acknowledged increments ({Sample(lost)}), " +
               $"{extra.Length} above the increments sent ({Sample(extra)})";
    }

    internal static string Statuses(IReadOnlyDictionary<string, long> statuses) =>
        statuses.Count == 0
            ? "none"
            : string.Join(", ", statuses.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => $"{s.Key}×{s.Value:N0}"));

    /// <summary>The Host as users run it: its Release build, <c>dotnet Akka.WriteBehind.Host.dll</c>, options it has today.</summary>
    private static ProcessStartInfo HostStart(string dataDir, string system, Scenario scenario, string? apiKey)
    {
        var start = new ProcessStartInfo(DotnetExecutable()) { WorkingDirectory = dataDir };
        foreach (var arg in new[]
                 {
                     HostAssemblyPath(), "--http-port", "0", "--akka-port", "0", "--data-dir", dataDir,
                     "--durability", HttpSystems.Durability(system)!,
                     "--flush-interval", $"{(long)scenario.FlushInterval.TotalMilliseconds}ms",
                 })
            start.ArgumentList.Add(arg);
        // the Host reads WRITEBEHIND_<OPTION>: none of the caller's may change the measured set-up
        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("WRITEBEHIND_", StringComparison.Ordinal)).ToList())
            start.Environment.Remove(name);
        // read by a Host that has --api-key, ignored by one that has not
        if (apiKey is not null)
            start.Environment["WRITEBEHIND_API_KEY"] = apiKey;
        return start;
    }

    /// <summary>This executable again, serving <see cref="WriteThroughServer"/>, with server GC (an ASP.NET app's default).</summary>
    private static ProcessStartInfo WriteThroughStart(string dbFile, string? apiKey)
    {
        var self = Environment.ProcessPath ?? throw new InvalidOperationException("no process path");
        var start = new ProcessStartInfo(self) { WorkingDirectory = Path.GetDirectoryName(dbFile)! };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
            start.ArgumentList.Add(typeof(HttpRound).Assembly.Location);
        start.ArgumentList.Add(WriteThroughServer.Command);
        start.ArgumentList.Add(dbFile);
        start.Environment["DOTNET_gcServer"] = "1";
        if (apiKey is not null)
            start.Environment[WriteThroughServer.ApiKeyVariable] = apiKey;
        return start;
    }

    /// <summary>The schema of the library's store and a row of value 0 per key: every request is then exactly one UPDATE.</summary>
    private static async Task CreateRowsAsync(string dbFile, string[] keys)
    {
        await new Akka.WriteBehind.Counters.SqliteCounterStore($"Data Source={dbFile};Pooling=False").InitializeAsync();
        await using var connection = new SqliteConnection($"Data Source={dbFile};Pooling=False");
        await connection.OpenAsync();
        await Systems.WriteThroughTarget.InsertRowsAsync(connection, keys);
    }

    /// <summary>Polls until every key's stored value reaches its acknowledged increments, or for <see cref="DurableTimeout"/>.</summary>
    private static async Task WaitStoredAsync(string dbFile, long[] acknowledged)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < DurableTimeout)
        {
            var stored = await ReadStoredAsync(dbFile, acknowledged.Length);
            if (Enumerable.Range(0, stored.Length).All(k => stored[k] >= acknowledged[k]))
                return;
            await Task.Delay(PollInterval);
        }
    }

    /// <summary>The stored value of <c>bench:0</c> … <c>bench:{keys-1}</c> (0 for a key without a row).</summary>
    private static async Task<long[]> ReadStoredAsync(string dbFile, int keys)
    {
        var stored = new long[keys];
        if (!File.Exists(dbFile))
            return stored;
        await using var connection = new SqliteConnection($"Data Source={dbFile};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync();
        await using var select = connection.CreateCommand();
        select.CommandText = "SELECT key, value FROM counters WHERE key LIKE 'bench:%'";
        await using var reader = await select.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            var name = reader.GetString(0).AsSpan("bench:".Length);
            if (int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var k) && k < keys)
                stored[k] = reader.GetInt64(1);
        }

        return stored;
    }

    private static string DotnetExecutable() =>
        Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet" ? self : "dotnet";

    /// <summary>
    /// The Host's Release build in this repository: src/Host/bin/Release/&lt;tfm&gt;/Akka.WriteBehind.Host.dll (the benchmark
    /// project references the Host project, so building the benchmark in Release builds it).
    /// </summary>
    private static string HostAssemblyPath()
    {
        var tfm = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Name;
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Akka.WriteBehind.sln")))
            root = root.Parent;
        if (root is null)
            throw new InvalidOperationException(
                $"no Akka.WriteBehind.sln above {AppContext.BaseDirectory}: the http scenario runs the Host built in this repository");
        var dll = Path.Combine(root.FullName, "src", "Host", "bin", "Release", tfm, "Akka.WriteBehind.Host.dll");
        return File.Exists(dll)
            ? dll
            : throw new InvalidOperationException(
                $"{dll} is missing; build the Host in Release first: dotnet build -c Release src/Host");
    }}
