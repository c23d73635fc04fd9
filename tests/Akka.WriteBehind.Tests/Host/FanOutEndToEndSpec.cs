using System.Net;
using System.Text.Json;
using Akka.WriteBehind.Tests.Support;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Host;

/// <summary>The fan-out endpoints of the real Host process: one result per item, typed per-item errors, whole-request 400s.</summary>
public sealed class FanOutEndToEndSpec(ITestOutputHelper output) : IDisposable
{
    private readonly TempDirectory _dataDir = new();
    private HostProcess? _host;

    [Fact]
    public async Task Should_answer_one_result_per_item_for_counters_and_accounts()
    {
        var (host, _) = await HostProcess.StartAsync(_dataDir.Path);
        _host = host;
        using var http = host.CreateClient(4);

        // counters: items for the same key run in order; a bad key and an overflow fail alone
        var increments = await HostHttp.PostJsonAsync(http, "counters/increments", $$"""
            [{"key": "fan:a", "delta": 5}, {"key": "fan:b", "delta": 7}, {"key": "fan:a", "delta": 3},
             {"key": "bad\u0001key", "delta": 1}, {"key": "fan:max", "delta": {{long.MaxValue}}}, {"key": "fan:max", "delta": 1}]
            """, HttpStatusCode.OK);
        var results = Results(increments);
        Assert.Equal([0, 1, 2, 3, 4, 5], results.Select(r => r.GetProperty("index").GetInt32()));
        Assert.Equal([202, 202, 202, 400, 202, 409], results.Select(r => r.GetProperty("status").GetInt32()));
        Assert.Equal(3, results[2].GetProperty("delta").GetInt64());
        Assert.Equal("journal", results[2].GetProperty("durability").GetString());
        Assert.Equal("invalid_key", results[3].GetProperty("error").GetString());
        Assert.Equal("overflow", results[5].GetProperty("error").GetString());
        Assert.False(results[0].TryGetProperty("error", out _));
        Assert.Equal(8, (await HostHttp.GetJsonAsync(http, "counters/fan:a", HttpStatusCode.OK)).GetProperty("total").GetInt64());

        // accounts: a refused withdrawal and a bad amount do not stop the others
        var operations = await HostHttp.PostJsonAsync(http, "accounts/operations", """
            [{"key": "fan:acct", "op": "deposit", "amount": 100}, {"key": "fan:empty", "op": "withdraw", "amount": 10},
             {"key": "fan:acct", "op": "withdraw", "amount": 0}, {"key": "fan:other", "op": "deposit", "amount": 1}]
            """, HttpStatusCode.OK);
        results = Results(operations);
        Assert.Equal([200, 409, 400, 200], results.Select(r => r.GetProperty("status").GetInt32()));
        Assert.Equal(100, results[0].GetProperty("balance").GetInt64());
        Assert.Equal("rejected", results[1].GetProperty("error").GetString());
        Assert.Equal("invalid_argument", results[2].GetProperty("error").GetString());
        Assert.Equal(100, (await HostHttp.GetJsonAsync(http, "accounts/fan:acct", HttpStatusCode.OK)).GetProperty("balance").GetInt64());

        // a body of the wrong shape is refused whole, nothing run
        await HostHttp.AssertErrorAsync(HostHttp.PostAsync(http, "counters/increments", """{"key": "fan:a", "delta": 1}"""),
            HttpStatusCode.BadRequest, "invalid_argument");
        await HostHttp.AssertErrorAsync(HostHttp.PostAsync(http, "counters/increments", "[]"), HttpStatusCode.BadRequest, "invalid_argument");
        await HostHttp.AssertErrorAsync(HostHttp.PostAsync(http, "counters/increments", """[{"key": "fan:a", "delta": 1}, {"key": "fan:a"}]"""),
            HttpStatusCode.BadRequest, "invalid_argument");
        var tooMany = "[" + string.Join(",", Enumerable.Repeat("""{"key": "fan:a", "delta": 1}""", 1001)) + "]";
        await HostHttp.AssertErrorAsync(HostHttp.PostAsync(http, "counters/increments", tooMany), HttpStatusCode.BadRequest, "invalid_argument");
        await HostHttp.AssertErrorAsync(HostHttp.PostAsync(http, "accounts/operations", """[{"key": "fan:acct", "op": "steal", "amount": 1}]"""),
            HttpStatusCode.BadRequest, "invalid_argument");
        Assert.Equal(8, (await HostHttp.GetJsonAsync(http, "counters/fan:a", HttpStatusCode.OK)).GetProperty("total").GetInt64());

        await host.StopAsync();
        Assert.True(host.ExitCode == 0, $"exit code {host.ExitCode}\n{host.Tail()}");
        output.WriteLine(host.Tail());
    }

    [Fact]
    public async Task Should_answer_429_per_item_with_the_queue_bound_when_a_config_file_sets_tiny_limits()
    {
        // --config layers a user's HOCON over the Host's files: the fan-out goes through the fast path, which holds
        // aggregates for one key at a time here; behind it one message in flight to the entities, one key queued
        var config = Path.Combine(_dataDir.Path, "tiny-queues.conf");
        await File.WriteAllTextAsync(config, """
            akka.write-behind.counters.ingest {
              fast-path-max-keys = 1
              max-outstanding = 1
              max-active-keys = 1
              max-pending = 1
            }
            """);
        var (host, _) = await HostProcess.StartAsync(_dataDir.Path, "--durability", "memory", "--config", config);
        _host = host;
        using var http = host.CreateClient(4);

        // 100 new keys at once: the first takes the fast path's one aggregate, the others find it taken until it drains
        var items = string.Join(",", Enumerable.Range(0, 100).Select(i => $$"""{"key": "tiny:{{i}}", "delta": {{i + 1}}}"""));
        var results = Results(await HostHttp.PostJsonAsync(http, "counters/increments", $"[{items}]", HttpStatusCode.OK));
        Assert.Equal(100, results.Length);
        Assert.All(results, r => Assert.Contains(r.GetProperty("status").GetInt32(), new[] { 202, 429 }));
        var refused = results.Where(r => r.GetProperty("status").GetInt32() == 429).ToArray();
        Assert.NotEmpty(refused);
        Assert.All(refused, r =>
        {
            Assert.Equal("saturated", r.GetProperty("error").GetString());
            var saturation = r.GetProperty("saturation");
            Assert.Contains(saturation.GetProperty("limit").GetString(), new[] { "depth", "width", "total" });
            Assert.True(saturation.GetProperty("max").GetInt32() >= 1);
        });
        output.WriteLine($"{refused.Length} of 100 items refused: {refused[0]}");

        // exactly the accepted items are counted, and once the queue drained the refused ones are accepted
        foreach (var r in results)
        {
            var key = r.GetProperty("key").GetString()!;
            var expected = r.GetProperty("status").GetInt32() == 202 ? int.Parse(key["tiny:".Length..]) + 1 : 0;
            Assert.Equal(expected, (await HostHttp.GetJsonAsync(http, $"counters/{key}", HttpStatusCode.OK)).GetProperty("total").GetInt64());
        }

        var retry = Results(await HostHttp.PostJsonAsync(http, "counters/increments",
            $$"""[{"key": "{{refused[0].GetProperty("key").GetString()}}", "delta": 1}]""", HttpStatusCode.OK));
        Assert.Equal(202, retry[0].GetProperty("status").GetInt32());

        await host.StopAsync();
        Assert.True(host.ExitCode == 0, $"exit code {host.ExitCode}\n{host.Tail()}");
    }

    public void Dispose()
    {
        _host?.Dispose();
        _dataDir.Dispose();
    }

    private static JsonElement[] Results(JsonElement answer) => answer.GetProperty("results").EnumerateArray().ToArray();
}
