using System.Net;
using System.Text.Json;
using Akka.WriteBehind.Tests.Support;
using Microsoft.Data.Sqlite;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Host;

/// <summary>One Host process (SQLite, journal durability) shared by the observability specs, with a few increments sent.</summary>
public sealed class ObservedHostFixture : IAsyncLifetime
{
    public const int Keys = 5;
    public const int IncrementsPerKey = 10;
    public const string OverflowKey = "obs:overflow";

    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "akka-wb-observe", Guid.NewGuid().ToString("N"));

    internal HostProcess Host { get; private set; } = null!;

    public HttpClient Http { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_dataDir);
        (Host, _) = await HostProcess.StartAsync(_dataDir, "--flush-interval", "200ms");
        Http = Host.CreateClient(8);

        // 50 increments over 5 keys, every key flushed; one overflow refused (409)
        for (var k = 0; k < Keys; k++)
        {
            for (var i = 0; i < IncrementsPerKey; i++)
            {
                using var response = await HostHttp.PostAsync(Http, $"counters/obs:{k}/increment", "{\"delta\":1}");
                Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            }

            await HostHttp.PostJsonAsync(Http, $"counters/obs:{k}/flush", null, HttpStatusCode.OK);
        }

        using (var max = await HostHttp.PostAsync(Http, $"counters/{OverflowKey}/increment", $"{{\"delta\":{long.MaxValue}}}"))
            Assert.Equal(HttpStatusCode.Accepted, max.StatusCode);
        await HostHttp.AssertErrorAsync(HostHttp.PostAsync(Http, $"counters/{OverflowKey}/increment", "{\"delta\":1}"), HttpStatusCode.Conflict, "overflow");
    }

    public async Task DisposeAsync()
    {
        Http?.Dispose();
        if (Host is not null)
        {
            await Host.StopAsync();
            Host.Dispose();
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
}

/// <summary>
/// <c>/metrics</c>, <c>/ready</c>, <c>/stats</c> and the status page of a real Host process; the page runs in a real headless
/// Chromium.
/// </summary>
public sealed class ObservabilitySpec(ObservedHostFixture node, ITestOutputHelper output) : IClassFixture<ObservedHostFixture>
{
    private const int Sent = ObservedHostFixture.Keys * ObservedHostFixture.IncrementsPerKey + 1;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Metrics_should_be_prometheus_text_with_the_write_behind_instruments()
    {
        await Eventually(async () =>
        {
            using var response = await node.Http.GetAsync("metrics");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
            var (types, samples) = PrometheusText.Parse(await response.Content.ReadAsStringAsync());

            Assert.Equal("counter", types.GetValueOrDefault("akka_write_behind_counters_increments_total"));
            Assert.Equal("counter", types.GetValueOrDefault("akka_write_behind_counters_flushes_total"));
            Assert.Equal("counter", types.GetValueOrDefault("akka_write_behind_counters_rows_written_total"));
            Assert.Equal("counter", types.GetValueOrDefault("akka_write_behind_counters_refusals_total"));
            Assert.Equal("gauge", types.GetValueOrDefault("akka_write_behind_counters_pending_keys"));
            Assert.Equal("gauge", types.GetValueOrDefault("akka_write_behind_counters_oldest_unflushed_age_seconds"));
            Assert.Equal("gauge", types.GetValueOrDefault("akka_write_behind_counters_journal_persists_in_flight"));
            Assert.Equal("histogram", types.GetValueOrDefault("akka_write_behind_counters_batch_duration_seconds"));
            Assert.Equal("histogram", types.GetValueOrDefault("akka_write_behind_counters_flush_duration_seconds"));
            Assert.Equal("gauge", types.GetValueOrDefault("akka_write_behind_counters_pending_increments"));

            Assert.Equal(Sent, Sum(samples, "akka_write_behind_counters_increments_total"));
            Assert.True(Sum(samples, "akka_write_behind_counters_flushes_total") >= ObservedHostFixture.Keys);
            Assert.True(Sum(samples, "akka_write_behind_counters_rows_written_total") >= ObservedHostFixture.Keys);
            Assert.Equal(1, Sum(samples, "akka_write_behind_counters_refusals_total", ("reason", "Overflow")));
            Assert.Contains(samples, s => s.Name == "akka_write_behind_counters_batch_duration_seconds_bucket" && s.Labels["le"] == "0.001");
            Assert.True(Sum(samples, "akka_write_behind_counters_flush_duration_seconds_count") >= ObservedHostFixture.Keys);
        });
    }

    [Fact]
    public async Task Ready_should_answer_200_on_an_up_node_with_a_reachable_store()
    {
        var ready = await HostHttp.GetJsonAsync(node.Http, "ready", HttpStatusCode.OK);
        Assert.Equal("ready", ready.GetProperty("status").GetString());
        Assert.Equal($"akka.tcp://writebehind@127.0.0.1:{node.Host.AkkaPort}", ready.GetProperty("address").GetString());
        Assert.StartsWith("sqlite:", ready.GetProperty("store").GetString());
        Assert.True(ready.GetProperty("storeLatencyMs").GetDouble() >= 0);
    }

    [Fact]
    public async Task Stats_should_show_the_node_its_members_the_ingest_and_the_refusal()
    {
        await Eventually(async () =>
        {
            var stats = await HostHttp.GetJsonAsync(node.Http, "stats", HttpStatusCode.OK);
            var self = $"akka.tcp://writebehind@127.0.0.1:{node.Host.AkkaPort}";
            Assert.Equal(self, stats.GetProperty("node").GetProperty("address").GetString());
            Assert.Equal("up", stats.GetProperty("node").GetProperty("status").GetString());
            Assert.True(stats.GetProperty("node").GetProperty("uptimeSeconds").GetDouble() > 0);

            var member = Assert.Single(stats.GetProperty("members").EnumerateArray());
            Assert.Equal(self, member.GetProperty("address").GetString());
            Assert.Equal("up", member.GetProperty("status").GetString());
            Assert.True(member.GetProperty("self").GetBoolean());

            var summary = stats.GetProperty("summary");
            Assert.Equal(Sent, summary.GetProperty("ingestTotal").GetDouble());
            Assert.True(summary.GetProperty("flushTotal").GetDouble() >= ObservedHostFixture.Keys);
            Assert.Equal(1, summary.GetProperty("refusals").GetDouble());
            Assert.Equal(JsonValueKind.Number, summary.GetProperty("pendingKeys").ValueKind);
            Assert.Equal(JsonValueKind.Number, summary.GetProperty("oldestUnflushedAgeSeconds").ValueKind);

            // the history holds the second in which the increments arrived
            Assert.Contains(stats.GetProperty("history").EnumerateArray(),
                s => s.GetProperty("ingestRate").ValueKind == JsonValueKind.Number && s.GetProperty("ingestRate").GetDouble() > 0);
            Assert.Contains(stats.GetProperty("instruments").EnumerateArray(),
                i => i.GetProperty("name").GetString() == "akka.write_behind.counters.increments" && i.GetProperty("value").GetDouble() == Sent);

            var error = Assert.Single(stats.GetProperty("recentErrors").EnumerateArray(),
                e => e.GetProperty("message").GetString()!.Contains("Overflow", StringComparison.Ordinal));
            Assert.Equal("warning", error.GetProperty("level").GetString());
        });
    }

    [Fact]
    public async Task Status_page_should_load_without_console_errors_and_chart_the_ingest()
    {
        await using var chromium = await HeadlessChromium.StartAsync();
        await chromium.NavigateAsync($"http://127.0.0.1:{node.Host.HttpPort}/");

        // the page polls /stats every second: wait for two polls and the ingest chart's numbers
        const string probe = """
            (() => {
              const ingest = document.getElementById('chart-ingest');
              return {
                polls: Number(document.body.dataset.polls || 0),
                ingestMax: Number(ingest.dataset.max || 0),
                ingestTotal: Number(ingest.dataset.total || 0),
                ingestPoints: Number(ingest.dataset.points || 0),
                members: document.querySelectorAll('#members tbody tr[data-status="up"]').length,
                errors: document.querySelectorAll('#errors tbody tr').length,
                status: document.getElementById('node-status').textContent,
                pollState: document.getElementById('poll-state').dataset.state,
                inked: (() => {
                  const c = ingest.querySelector('canvas');
                  const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                  let n = 0;
                  for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++;
                  return n;
                })(),
              };
            })()
            """;
        string last = "";
        await Eventually(async () =>
        {
            var seen = (await chromium.EvaluateAsync(probe))!;
            last = seen.ToJsonString();
            Assert.True((int)seen["polls"]! >= 2, last);
            Assert.Equal("ok", (string?)seen["pollState"]);
            Assert.Equal("up", (string?)seen["status"]);
            Assert.Equal(Sent, (double)seen["ingestTotal"]!);
            Assert.True((double)seen["ingestMax"]! > 0, $"the ingest chart shows no increments: {last}");
            Assert.True((int)seen["ingestPoints"]! >= 2, last);
            Assert.True((int)seen["inked"]! > 0, "the ingest canvas is blank");
            Assert.Equal(1, (int)seen["members"]!);
            Assert.True((int)seen["errors"]! >= 1, "the refusal is listed under recent errors");
        });
        output.WriteLine(last);
        // kept with the test results (.ci/run collects artifacts/test-results): what the page looked like
        var screenshot = Path.Combine(HostProcess.RepositoryRoot(), "artifacts", "test-results", "status-page.png");
        await chromium.ScreenshotAsync(screenshot);
        Assert.True(new FileInfo(screenshot).Length > 0, $"{screenshot} is empty");
        output.WriteLine($"screenshot: {screenshot}");
        Assert.True(chromium.Problems.Count == 0, "the page reported errors:\n" + string.Join("\n", chromium.Problems));
    }

    private static double Sum(IEnumerable<PrometheusSample> samples, string name, params (string Key, string Value)[] labels) =>
        samples.Where(s => s.Name == name && labels.All(l => s.Labels.GetValueOrDefault(l.Key) == l.Value)).Sum(s => s.Value);

    /// <summary>Retries <paramref name="assertion"/> until it passes or <see cref="Timeout"/> ends (then its last failure).</summary>
    private static async Task Eventually(Func<Task> assertion)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (true)
        {
            try
            {
                await assertion();
                return;
            }
            catch (Exception) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }
        }
    }
}

/// <summary><c>/ready</c> follows the store: a Host on PostgreSQL behind a proxy that the spec cuts and restores.</summary>
[Collection(PostgresFixture.Collection)]
public sealed class ReadinessStoreSpec(PostgresFixture postgres, ITestOutputHelper output) : IAsyncLifetime
{
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "akka-wb-ready", Guid.NewGuid().ToString("N"));
    private PostgresDatabase? _database;
    private TcpProxy? _proxy;
    private HostProcess? _host;

    public Task InitializeAsync()
    {
        Directory.CreateDirectory(_dataDir);
        _database = postgres.CreateDatabase();
        _proxy = new TcpProxy(postgres.Port);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Ready_should_answer_503_while_the_store_is_unreachable_and_200_again_after()
    {
        var throughProxy = new Npgsql.NpgsqlConnectionStringBuilder(_database!.ConnectionString) { Port = _proxy!.Port, Timeout = 5 };
        var jsonLogs = new Dictionary<string, string> { ["Logging__Console__FormatterName"] = "json" };
        (_host, _) = await HostProcess.StartAsync(_dataDir, jsonLogs, "--store", "postgres", "--connection-string", throughProxy.ConnectionString,
            "--durability", "memory", "--flush-interval", "1h");
        using var http = _host.CreateClient(2);
        var ready = await HostHttp.GetJsonAsync(http, "ready", HttpStatusCode.OK);
        Assert.StartsWith("postgres:127.0.0.1:", ready.GetProperty("store").GetString());
        const string key = "ready:flaky";
        using (var accepted = await HostHttp.PostAsync(http, $"counters/{key}/increment", "{\"delta\":7}"))
            Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);

        _proxy.Cut();
        await Eventually(async () =>
        {
            using var response = await http.GetAsync("ready");
            var error = await HostHttp.ReadJsonAsync(response, HttpStatusCode.ServiceUnavailable);
            Assert.Equal("unavailable", error.GetProperty("error").GetString());
            Assert.Contains("not reachable", error.GetProperty("message").GetString());
            output.WriteLine(error.GetProperty("message").GetString());
        });
        await HostHttp.GetJsonAsync(http, "health", HttpStatusCode.OK); // liveness does not depend on the store

        // a flush fails while the store is away: a structured warning names the key and the write, /stats lists it
        await HostHttp.AssertErrorAsync(HostHttp.PostAsync(http, $"counters/{key}/flush", null), HttpStatusCode.ServiceUnavailable, "store_failure");
        await Eventually(() =>
        {
            var warnings = _host.Output.Where(l => l.StartsWith('{')).Select(l => JsonDocument.Parse(l).RootElement)
                .Where(l => l.GetProperty("LogLevel").GetString() == "Warning").ToList();
            var flush = warnings.First(w => w.GetProperty("State").TryGetProperty("CounterKey", out var k) && k.GetString() == key
                                                     && w.GetProperty("State").TryGetProperty("FlushSeq", out _));
            output.WriteLine(flush.ToString());
            Assert.Equal("Akka.WriteBehind.Counters.CounterActor", flush.GetProperty("Category").GetString());
            var store = warnings.First(w => w.GetProperty("State").TryGetProperty("StoreBatch", out _));
            Assert.Contains(key, store.GetProperty("State").GetProperty("Keys").GetString());
            return Task.CompletedTask;
        });
        var stats = await HostHttp.GetJsonAsync(http, "stats", HttpStatusCode.OK);
        Assert.Contains(stats.GetProperty("recentErrors").EnumerateArray(), e => e.GetProperty("message").GetString()!.Contains($"Counter [{key}] write"));

        _proxy.Restore();
        await Eventually(async () => await HostHttp.GetJsonAsync(http, "ready", HttpStatusCode.OK));
        await Eventually(async () => await HostHttp.PostJsonAsync(http, $"counters/{key}/flush", null, HttpStatusCode.OK));
    }

    public async Task DisposeAsync()
    {
        _proxy?.Restore();
        if (_host is not null)
        {
            await _host.StopAsync();
            _host.Dispose();
        }

        _proxy?.Dispose();
        Npgsql.NpgsqlConnection.ClearAllPools();
        _database?.Dispose();
        try
        {
            Directory.Delete(_dataDir, recursive: true);
        }
        catch (IOException)
        {
            // still in use; the OS cleans its temp directory
        }
    }

    private static async Task Eventually(Func<Task> assertion)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            try
            {
                await assertion();
                return;
            }
            catch (Exception) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }
        }
    }
}
