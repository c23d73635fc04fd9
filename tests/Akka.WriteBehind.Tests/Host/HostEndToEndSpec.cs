using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.Data.Sqlite;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Host;

/// <summary>
/// Runs the built Host as a real process on free ports and a temporary data directory, drives its HTTP API, stops it with
/// SIGTERM and checks the SQLite file against every acknowledged increment.
/// </summary>
public sealed class HostEndToEndSpec : IDisposable
{
    private const int Keys = 1_000;
    private const int Increments = 20_000;
    private const int Concurrency = 64;

    private readonly ITestOutputHelper _output;
    private readonly string _dataDir;
    private HostProcess? _host;

    public HostEndToEndSpec(ITestOutputHelper output)
    {
        _output = output;
        _dataDir = Path.Combine(Path.GetTempPath(), "akka-wb-host-e2e", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dataDir);
    }

    [Theory]
    [InlineData("journal")]
    [InlineData("memory")]
    public async Task Should_serve_counters_over_http_and_store_every_increment_after_sigterm(string durability)
    {
        Assert.True(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS(), "this spec stops the Host with SIGTERM");
        var clock = Stopwatch.StartNew();

        // arrange: the Host process
        var (host, upLine) = await HostProcess.StartAsync(_dataDir, "--flush-interval", "500ms", "--durability", durability);
        _host = host;
        Assert.Contains($"http=http://127.0.0.1:{host.HttpPort}", upLine);
        Assert.Contains($"akka=akka.tcp://writebehind@127.0.0.1:{host.AkkaPort}", upLine);
        Assert.Contains($"store=sqlite:{Path.Combine(_dataDir, "writebehind.db")}", upLine);
        Assert.Contains($"durability={durability}", upLine);
        _output.WriteLine($"up after {clock.Elapsed.TotalSeconds:F1}s: {upLine}");

        using var http = host.CreateClient(Concurrency);

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
                else if (i == 0)
                    Assert.Contains($"\"durability\":\"{durability}\"", await response.Content.ReadAsStringAsync());
            }
        }));
        _output.WriteLine($"{Increments} increments in {load.Elapsed.TotalSeconds:F1}s");
        Assert.True(failures.IsEmpty, $"{failures.Count} increments were not accepted, e.g.: {string.Join(" | ", failures.Take(5))}");

        // read-your-writes: the total includes what is not flushed yet
        var probe = operations[0].Key;
        var value = await HostHttp.GetJsonAsync(http, $"counters/{Uri.EscapeDataString(probe)}", HttpStatusCode.OK);
        Assert.Equal(probe, value.GetProperty("key").GetString());
        Assert.Equal(expected[probe], value.GetProperty("total").GetInt64());
        Assert.Equal(value.GetProperty("total").GetInt64(), value.GetProperty("stored").GetInt64() + value.GetProperty("pending").GetInt64());

        // flush: 200 once stored, then stored == total
        var flushed = await HostHttp.PostJsonAsync(http, $"counters/{Uri.EscapeDataString(probe)}/flush", null, HttpStatusCode.OK);
        Assert.Equal(expected[probe], flushed.GetProperty("stored").GetInt64());
        var afterFlush = await HostHttp.GetJsonAsync(http, $"counters/{Uri.EscapeDataString(probe)}", HttpStatusCode.OK);
        Assert.Equal(expected[probe], afterFlush.GetProperty("stored").GetInt64());
        Assert.Equal(0, afterFlush.GetProperty("pending").GetInt64());
        Assert.Equal(expected[probe], afterFlush.GetProperty("total").GetInt64());

        // a counter never incremented reads as zero and never becomes a row
        var untouched = await HostHttp.GetJsonAsync(http, "counters/e2e:untouched", HttpStatusCode.OK);
        Assert.Equal(0, untouched.GetProperty("total").GetInt64());

        // bad inputs: typed JSON errors with the right status
        await HostHttp.AssertErrorAsync(PostIncrementAsync(http, "\u0001", "{\"delta\":1}"), HttpStatusCode.BadRequest, "invalid_key");
        await HostHttp.AssertErrorAsync(PostIncrementAsync(http, new string('k', 257), "{\"delta\":1}"), HttpStatusCode.BadRequest, "invalid_key");
        await HostHttp.AssertErrorAsync(PostIncrementAsync(http, new string('é', 129), "{\"delta\":1}"), HttpStatusCode.BadRequest, "invalid_key");
        await HostHttp.AssertErrorAsync(http.GetAsync("counters/%01"), HttpStatusCode.BadRequest, "invalid_key");
        await HostHttp.AssertErrorAsync(PostIncrementAsync(http, "e2e:bad-body", "{\"delta\":\"x\"}"), HttpStatusCode.BadRequest, "invalid_argument");
        await HostHttp.AssertErrorAsync(PostIncrementAsync(http, "e2e:bad-body", ""), HttpStatusCode.BadRequest, "invalid_argument");
        await HostHttp.AssertErrorAsync(PostIncrementAsync(http, "e2e:bad-body", "{\"delta\":1.5}"), HttpStatusCode.BadRequest, "invalid_argument");
        await HostHttp.AssertErrorAsync(PostIncrementAsync(http, "e2e:bad-body", "{\"delta\":9223372036854775808}"), HttpStatusCode.BadRequest, "invalid_argument");
        await HostHttp.AssertErrorAsync(PostIncrementAsync(http, "e2e:bad-body", "{\"other\":1}"), HttpStatusCode.BadRequest, "invalid_argument");
        await HostHttp.AssertErrorAsync(PostIncrementAsync(http, "e2e:bad-body", $"{{\"delta\":1,\"pad\":\"{new string('x', 5000)}\"}}"),
            HttpStatusCode.BadRequest, "invalid_argument");

        // overflow: the second maximum on one key is refused, the first is kept
        using (var first = await PostIncrementAsync(http, "e2e:overflow", "{\"delta\":9223372036854775807}"))
            Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        await HostHttp.AssertErrorAsync(PostIncrementAsync(http, "e2e:overflow", "{\"delta\":9223372036854775807}"), HttpStatusCode.Conflict, "overflow");
        expected["e2e:overflow"] = long.MaxValue;

        var health = await HostHttp.GetJsonAsync(http, "health", HttpStatusCode.OK);
        Assert.Equal("up", health.GetProperty("status").GetString());

        // SIGTERM: graceful leave, every pending delta flushed, exit code 0
        var stopping = Stopwatch.StartNew();
        await host.StopAsync();
        _output.WriteLine($"exited {host.ExitCode} {stopping.Elapsed.TotalSeconds:F1}s after SIGTERM; whole test {clock.Elapsed.TotalSeconds:F1}s");
        Assert.True(host.ExitCode == 0, $"exit code {host.ExitCode}\n{host.Tail()}");

        // assert: the database holds exactly the acknowledged sums
        var rows = HostProcess.ReadCounters(Path.Combine(_dataDir, "writebehind.db"));
        var wrong = expected.Where(kv => !rows.TryGetValue(kv.Key, out var v) || v != kv.Value)
            .Select(kv => $"{kv.Key}: expected {kv.Value}, stored {(rows.TryGetValue(kv.Key, out var v) ? v : "no row")}")
            .ToList();
        Assert.True(wrong.Count == 0, $"{wrong.Count} counters differ, e.g.: {string.Join(" | ", wrong.Take(5))}");
        Assert.Equal(expected.Count, rows.Count);

        // a SQLite file serves one node: its 1,000 keys journaled into one shard log (hocon/sqlite.conf)
        if (durability == "journal")
            Assert.Equal(["write-behind-counters|shard-0"], HostProcess.ReadJournalPersistenceIds(Path.Combine(_dataDir, "journal.db")));
    }

    public void Dispose()
    {
        _host?.Dispose();
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

    private static Task<HttpResponseMessage> PostIncrementAsync(HttpClient http, string key, string body) =>
        HostHttp.PostAsync(http, $"counters/{Uri.EscapeDataString(key)}/increment", body);
}
