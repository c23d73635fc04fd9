using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Host;

/// <summary>
/// Runs the built Host as a real process on free ports and a temporary data directory, drives its HTTP API, stops it with
/// SIGTERM and checks the SQLite file against every acknowledged increment.
/// </summary>
public sealed class HostEndToEndSpec : IDisposable
{
    private const string UpLinePrefix = "Akka.WriteBehind node up:";
    private const int Keys = 1_000;
    private const int Increments = 20_000;
    private const int Concurrency = 64;
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(90);

    private readonly ITestOutputHelper _output;
    private readonly string _dataDir;
    private readonly ConcurrentQueue<string> _processOutput = new();
    private readonly TaskCompletionSource<string> _upLine = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Process? _process;

    public HostEndToEndSpec(ITestOutputHelper output)
    {
        _output = output;
        _dataDir = Path.Combine(Path.GetTempPath(), "akka-wb-host-e2e", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dataDir);
    }

    [Fact]
    public async Task Should_serve_counters_over_http_and_store_every_increment_after_sigterm()
    {
        Assert.True(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS(), "this spec stops the Host with SIGTERM");
        var clock = Stopwatch.StartNew();

        // arrange: the Host process
        var httpPort = FreeTcpPort();
        var akkaPort = FreeTcpPort();
        var process = StartHost(httpPort, akkaPort);
        var upLine = await WaitForUpLineAsync(process);
        Assert.Contains($"http=http://127.0.0.1:{httpPort}", upLine);
        Assert.Contains($"akka=akka.tcp://writebehind@127.0.0.1:{akkaPort}", upLine);
        Assert.Contains($"store=sqlite:{Path.Combine(_dataDir, "writebehind.db")}", upLine);
        _output.WriteLine($"up after {clock.Elapsed.TotalSeconds:F1}s: {upLine}");

        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = Concurrency })
        {
            BaseAddress = new Uri($"http://127.0.0.1:{httpPort}/"),
            Timeout = TimeSpan.FromSeconds(30),
        };

        // act: 20,000 increments over 1,000 keys, mixed signs, at most 64 in flight
        var (operations, expected) = Workload();
        var failures = new ConcurrentQueue<string>();
        var next = -1;
        var load = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, Concurrency).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < operations.Length)
            {
                var (key, delta) = operations[i];
                using var response = await PostIncrementAsync(http, key, $"{{\"delta\":{delta}}}");
                if (response.StatusCode != HttpStatusCode.Accepted)
                    failures.Enqueue($"{key} {delta}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            }
        }));
        _output.WriteLine($"{Increments} increments in {load.Elapsed.TotalSeconds:F1}s");
        Assert.True(failures.IsEmpty, $"{failures.Count} increments were not accepted, e.g.: {string.Join(" | ", failures.Take(5))}");

        // read-your-writes: the total includes what is not flushed yet
        var probe = operations[0].Key;
        var value = await GetJsonAsync(http, $"counters/{Uri.EscapeDataString(probe)}", HttpStatusCode.OK);
        Assert.Equal(probe, value.GetProperty("key").GetString());
        Assert.Equal(expected[probe], value.GetProperty("total").GetInt64());
        Assert.Equal(value.GetProperty("total").GetInt64(), value.GetProperty("stored").GetInt64() + value.GetProperty("pending").GetInt64());

        // flush: 200 once stored, then stored == total
        var flushed = await PostJsonAsync(http, $"counters/{Uri.EscapeDataString(probe)}/flush", null, HttpStatusCode.OK);
        Assert.Equal(expected[probe], flushed.GetProperty("stored").GetInt64());
        var afterFlush = await GetJsonAsync(http, $"counters/{Uri.EscapeDataString(probe)}", HttpStatusCode.OK);
        Assert.Equal(expected[probe], afterFlush.GetProperty("stored").GetInt64());
        Assert.Equal(0, afterFlush.GetProperty("pending").GetInt64());
        Assert.Equal(expected[probe], afterFlush.GetProperty("total").GetInt64());

        // a counter never incremented reads as zero and never becomes a row
        var untouched = await GetJsonAsync(http, "counters/e2e:untouched", HttpStatusCode.OK);
        Assert.Equal(0, untouched.GetProperty("total").GetInt64());

        // bad inputs: typed JSON errors with the right status
        await AssertErrorAsync(PostIncrementAsync(http, "\u0001", "{\"delta\":1}"), HttpStatusCode.BadRequest, "invalid_key");
        await AssertErrorAsync(PostIncrementAsync(http, new string('k', 257), "{\"delta\":1}"), HttpStatusCode.BadRequest, "invalid_key");
        await AssertErrorAsync(PostIncrementAsync(http, new string('é', 129), "{\"delta\":1}"), HttpStatusCode.BadRequest, "invalid_key");
        await AssertErrorAsync(http.GetAsync("counters/%01"), HttpStatusCode.BadRequest, "invalid_key");
        await AssertErrorAsync(PostIncrementAsync(http, "e2e:bad-body", "{\"delta\":\"x\"}"), HttpStatusCode.BadRequest, "invalid_argument");
        await AssertErrorAsync(PostIncrementAsync(http, "e2e:bad-body", ""), HttpStatusCode.BadRequest, "invalid_argument");
        await AssertErrorAsync(PostIncrementAsync(http, "e2e:bad-body", "{\"delta\":1.5}"), HttpStatusCode.BadRequest, "invalid_argument");
        await AssertErrorAsync(PostIncrementAsync(http, "e2e:bad-body", "{\"delta\":9223372036854775808}"), HttpStatusCode.BadRequest, "invalid_argument");
        await AssertErrorAsync(PostIncrementAsync(http, "e2e:bad-body", "{\"other\":1}"), HttpStatusCode.BadRequest, "invalid_argument");

        // overflow: the second maximum on one key is refused, the first is kept
        using (var first = await PostIncrementAsync(http, "e2e:overflow", "{\"delta\":9223372036854775807}"))
            Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        await AssertErrorAsync(PostIncrementAsync(http, "e2e:overflow", "{\"delta\":9223372036854775807}"), HttpStatusCode.Conflict, "overflow");
        expected["e2e:overflow"] = long.MaxValue;

        var health = await GetJsonAsync(http, "health", HttpStatusCode.OK);
        Assert.Equal("up", health.GetProperty("status").GetString());

        // SIGTERM: graceful leave, every pending delta flushed, exit code 0
        var stopping = Stopwatch.StartNew();
        Assert.Equal(0, kill(process.Id, Sigterm));
        using (var exit = new CancellationTokenSource(ExitTimeout))
        {
            try
            {
                await process.WaitForExitAsync(exit.Token);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"the Host did not exit within {ExitTimeout} of SIGTERM\n{Tail()}");
            }
        }

        _output.WriteLine($"exited {process.ExitCode} {stopping.Elapsed.TotalSeconds:F1}s after SIGTERM; whole test {clock.Elapsed.TotalSeconds:F1}s");
        Assert.True(process.ExitCode == 0, $"exit code {process.ExitCode}\n{Tail()}");

        // assert: the database holds exactly the acknowledged sums
        var rows = ReadCounters(Path.Combine(_dataDir, "writebehind.db"));
        var wrong = expected.Where(kv => !rows.TryGetValue(kv.Key, out var v) || v != kv.Value)
            .Select(kv => $"{kv.Key}: expected {kv.Value}, stored {(rows.TryGetValue(kv.Key, out var v) ? v : "no row")}")
            .ToList();
        Assert.True(wrong.Count == 0, $"{wrong.Count} counters differ, e.g.: {string.Join(" | ", wrong.Take(5))}");
        Assert.Equal(expected.Count, rows.Count);
    }

    public void Dispose()
    {
        if (_process is { } process)
        {
            try
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                    process.WaitForExit(10_000);
                }
            }
            catch (InvalidOperationException)
            {
                // never started or already reaped
            }

            process.Dispose();
        }

        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_dataDir, recursive: true);
        }
        catch (IOException)
        {
            // still in use; the OS cleans its temp directory
        }
    }

    /// <summary>The operations (key, delta) in send order and the expected sum per key, never zero (so every key gets a row).</summary>
    private static ((string Key, long Delta)[] Operations, Dictionary<string, long> Expected) Workload()
    {
        var random = new Random(20_261_124);
        var keys = Enumerable.Range(0, Keys).Select(i => (i % 10) switch
        {
            0 => $"e2e:ключ-{i}",
            1 => $"e2e:page {i}/home",
            _ => $"e2e:{i:D4}",
        }).ToArray();

        var operations = new (string Key, long Delta)[Increments];
        for (var i = 0; i < Increments; i++)
            operations[i] = (keys[random.Next(Keys)], random.Next(-1_000, 1_001));
        for (var k = 0; k < Keys; k++)
            operations[k] = (keys[k], operations[k].Delta); // every key at least once

        var expected = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (key, delta) in operations)
            expected[key] = expected.GetValueOrDefault(key) + delta;
        for (var i = operations.Length - 1; i >= 0; i--)
        {
            var key = operations[i].Key;
            if (expected[key] != 0)
                continue;
            operations[i] = (key, operations[i].Delta + 1);
            expected[key] = 1;
        }

        return (operations, expected);
    }

    private Process StartHost(int httpPort, int akkaPort)
    {
        var start = new ProcessStartInfo(DotnetExecutable())
        {
            WorkingDirectory = _dataDir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[]
                 {
                     HostAssemblyPath(),
                     "--http-port", httpPort.ToString(), "--akka-port", akkaPort.ToString(),
                     "--data-dir", _dataDir, "--flush-interval", "500ms",
                 })
            start.ArgumentList.Add(arg);
        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("WRITEBEHIND_", StringComparison.Ordinal)).ToList())
            start.Environment.Remove(name);

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
                return;
            _processOutput.Enqueue(e.Data);
            if (e.Data.StartsWith(UpLinePrefix, StringComparison.Ordinal))
                _upLine.TrySetResult(e.Data);
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
                _processOutput.Enqueue("stderr: " + e.Data);
        };
        process.Exited += (_, _) => _upLine.TrySetException(new InvalidOperationException("the Host exited before it was up"));

        Assert.True(process.Start(), "the Host process did not start");
        _process = process;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private async Task<string> WaitForUpLineAsync(Process process)
    {
        var finished = await Task.WhenAny(_upLine.Task, Task.Delay(StartTimeout));
        if (finished != _upLine.Task)
            Assert.Fail($"no '{UpLinePrefix}' line within {StartTimeout}\n{Tail()}");
        if (_upLine.Task.IsFaulted)
        {
            await process.WaitForExitAsync();
            Assert.Fail($"the Host exited with code {process.ExitCode} before it was up\n{Tail()}");
        }

        return await _upLine.Task;
    }

    private string Tail() => "--- Host output (last 60 lines) ---\n" + string.Join('\n', _processOutput.TakeLast(60));

    private static Task<HttpResponseMessage> PostIncrementAsync(HttpClient http, string key, string body) =>
        http.PostAsync($"counters/{Uri.EscapeDataString(key)}/increment", new StringContent(body, Encoding.UTF8, "application/json"));

    private static async Task<JsonElement> GetJsonAsync(HttpClient http, string path, HttpStatusCode status)
    {
        using var response = await http.GetAsync(path);
        return await ReadJsonAsync(response, status);
    }

    private static async Task<JsonElement> PostJsonAsync(HttpClient http, string path, string? body, HttpStatusCode status)
    {
        using var response = await http.PostAsync(path, body is null ? null : new StringContent(body, Encoding.UTF8, "application/json"));
        return await ReadJsonAsync(response, status);
    }

    private static async Task<JsonElement> ReadJsonAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"{response.RequestMessage?.RequestUri}: expected {(int)status}, got {(int)response.StatusCode} {text}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private static async Task AssertErrorAsync(Task<HttpResponseMessage> request, HttpStatusCode status, string error)
    {
        using var response = await request;
        var json = await ReadJsonAsync(response, status);
        Assert.Equal(error, json.GetProperty("error").GetString());
        Assert.False(string.IsNullOrWhiteSpace(json.GetProperty("message").GetString()));
    }

    private static Dictionary<string, long> ReadCounters(string databaseFile)
    {
        Assert.True(File.Exists(databaseFile), $"{databaseFile} does not exist");
        var rows = new Dictionary<string, long>(StringComparer.Ordinal);
        var connectionString = new SqliteConnectionStringBuilder { DataSource = databaseFile, Pooling = false }.ToString();
        using var connection = new SqliteConnection(connectionString);
        connection.Open();
        using var select = connection.CreateCommand();
        select.CommandText = "SELECT key, value, applied_seq FROM counters";
        using var reader = select.ExecuteReader();
        while (reader.Read())
        {
            Assert.True(reader.GetInt64(2) > 0, $"{reader.GetString(0)} has applied_seq {reader.GetInt64(2)}");
            rows.Add(reader.GetString(0), reader.GetInt64(1));
        }

        return rows;
    }

    private static int FreeTcpPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The Host built next to this test assembly: tests/…/bin/&lt;Config&gt;/&lt;tfm&gt; → src/Host/bin/&lt;Config&gt;/&lt;tfm&gt;.</summary>
    private static string HostAssemblyPath()
    {
        var tfm = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var configuration = tfm.Parent?.Name ?? throw new InvalidOperationException($"unexpected test directory {tfm.FullName}");
        var root = tfm;
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Akka.WriteBehind.sln")))
            root = root.Parent;
        Assert.True(root is not null, $"no Akka.WriteBehind.sln above {tfm.FullName}");

        var dll = Path.Combine(root!.FullName, "src", "Host", "bin", configuration, tfm.Name, "Akka.WriteBehind.Host.dll");
        Assert.True(File.Exists(dll), $"{dll} is missing; build src/Host in {configuration} first");
        return dll;
    }

    private static string DotnetExecutable()
    {
        var hostPath = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(hostPath) && File.Exists(hostPath))
            return hostPath;
        var processPath = Environment.ProcessPath;
        return processPath is not null && Path.GetFileNameWithoutExtension(processPath) == "dotnet" ? processPath : "dotnet";
    }

    private const int Sigterm = 15;

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);
}
