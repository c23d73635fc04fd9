using System.Net;
using System.Text;
using System.Text.Json;
using Akka.WriteBehind.Tests.Refresh;
using Akka.WriteBehind.Tests.Support;
using Microsoft.Data.Sqlite;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Host;

/// <summary>
/// The job-status example of docs/refresh.md against the real Host process: items PUT over HTTP are refreshed from a local job
/// service through --refresh-url, a terminal status stops the polling, a job the service no longer knows is deleted.
/// </summary>
public sealed class RefreshEndToEndSpec(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly TempDirectory _dataDir = new();
    private FakeJobService _jobs = null!;
    private HostProcess? _host;

    public async Task InitializeAsync() => _jobs = await FakeJobService.StartAsync();

    [Fact]
    public async Task Should_track_job_status_from_the_job_service_until_it_is_terminal()
    {
        Assert.True(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS(), "this spec stops the Host with SIGTERM");
        _jobs.Set("job-1", "{\"status\":\"queued\"}");
        _jobs.Set("clock", "{\"status\":\"running\"}");
        var (host, _) = await HostProcess.StartAsync(_dataDir.Path, "--refresh-url", _jobs.Template, "--resync-period", "300ms");
        _host = host;
        using var http = host.CreateClient(8);

        // PUT: created as given, then synced at once (sync-on-create) and every resync period
        var created = await PutAsync(http, "job-1", "{\"status\":\"submitted\"}", HttpStatusCode.Created);
        Assert.Equal("submitted", created.GetProperty("state").GetProperty("status").GetString());
        Assert.False(created.GetProperty("terminal").GetBoolean());
        await PutAsync(http, "clock", "{}", HttpStatusCode.Created);
        await UntilStatusAsync(http, "job-1", "queued");

        _jobs.Set("job-1", "{\"status\":\"running\",\"progress\":0.5}");
        var running = await UntilStatusAsync(http, "job-1", "running");
        Assert.Equal(0.5, running.GetProperty("state").GetProperty("progress").GetDouble());

        _jobs.Set("job-1", "{\"status\":\"succeeded\",\"terminal\":true}");
        var done = await UntilStatusAsync(http, "job-1", "succeeded");
        Assert.True(done.GetProperty("terminal").GetBoolean());

        // terminal: no more polling of job-1 while the clock item is polled three more times
        var polled = _jobs.Gets("job-1");
        var clock = _jobs.Gets("clock");
        await Eventually.TrueAsync(() => _jobs.Gets("clock") >= clock + 3, Timeout, "three more polls of the clock item");
        Assert.InRange(_jobs.Gets("job-1"), polled, polled + 1); // a poll in flight at the change may still land
        output.WriteLine($"job-1 polled {_jobs.Gets("job-1")} times, clock {_jobs.Gets("clock")} times");

        // a job the service does not know (404) is deleted; DELETE removes an item; both then answer 404
        await PutAsync(http, "job-unknown", "{\"status\":\"submitted\"}", HttpStatusCode.Created);
        await Eventually.TrueAsync(() => StatusOf(http, "job-unknown") == HttpStatusCode.NotFound, Timeout, "job-unknown deleted after its 404");
        using (var deleted = await http.DeleteAsync("items/clock"))
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        await HostHttp.AssertErrorAsync(http.GetAsync("items/clock"), HttpStatusCode.NotFound, "not_found");
        await HostHttp.AssertErrorAsync(http.DeleteAsync("items/clock"), HttpStatusCode.NotFound, "not_found");
        await HostHttp.AssertErrorAsync(http.GetAsync("items/nobody"), HttpStatusCode.NotFound, "not_found");

        // PUT replaces; bad input is typed
        Assert.Equal("again", (await PutAsync(http, "job-1", "{\"status\":\"again\",\"terminal\":true}", HttpStatusCode.OK))
            .GetProperty("state").GetProperty("status").GetString());
        await HostHttp.AssertErrorAsync(http.PutAsync("items/job-2", Json("not json")), HttpStatusCode.BadRequest, "invalid_argument");
        await HostHttp.AssertErrorAsync(http.PutAsync("items/job-2", Json("")), HttpStatusCode.BadRequest, "invalid_argument");
        await HostHttp.AssertErrorAsync(http.PutAsync("items/%01", Json("{}")), HttpStatusCode.BadRequest, "invalid_key");

        // SIGTERM; the items are in the SQLite file of --data-dir
        await host.StopAsync();
        Assert.True(host.ExitCode == 0, $"exit code {host.ExitCode}\n{host.Tail()}");
        var rows = ReadItems(_dataDir.DatabaseFile);
        Assert.Equal(("{\"status\":\"again\",\"terminal\":true}", true), rows["job-1"]);
        Assert.False(rows.ContainsKey("clock"));
        Assert.False(rows.ContainsKey("job-unknown"));
    }

    public async Task DisposeAsync()
    {
        _host?.Dispose();
        await _jobs.DisposeAsync();
        _dataDir.Dispose();
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    private static async Task<JsonElement> PutAsync(HttpClient http, string id, string body, HttpStatusCode status)
    {
        using var response = await http.PutAsync($"items/{id}", Json(body));
        return await HostHttp.ReadJsonAsync(response, status);
    }

    private static HttpStatusCode StatusOf(HttpClient http, string id)
    {
        using var response = http.GetAsync($"items/{id}").GetAwaiter().GetResult();
        return response.StatusCode;
    }

    private static async Task<JsonElement> UntilStatusAsync(HttpClient http, string id, string status)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (true)
        {
            var item = await HostHttp.GetJsonAsync(http, $"items/{id}", HttpStatusCode.OK);
            if (item.GetProperty("state").TryGetProperty("status", out var s) && s.GetString() == status)
                return item;
            Assert.True(DateTime.UtcNow < deadline, $"{id} did not reach status {status} within {Timeout}; last {item}");
            await Task.Delay(50);
        }
    }

    private static Dictionary<string, (string State, bool Terminal)> ReadItems(string databaseFile)
    {
        var rows = new Dictionary<string, (string, bool)>(StringComparer.Ordinal);
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = databaseFile, Pooling = false }.ToString());
        connection.Open();
        using var select = connection.CreateCommand();
        select.CommandText = "SELECT id, state, terminal FROM refresh_items";
        using var reader = select.ExecuteReader();
        while (reader.Read())
            rows.Add(reader.GetString(0), (reader.GetString(1), reader.GetInt64(2) != 0));
        return rows;
    }
}
