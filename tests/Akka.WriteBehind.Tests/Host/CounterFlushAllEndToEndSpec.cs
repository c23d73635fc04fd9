using System.Diagnostics;
using System.Net;
using System.Text;
using Akka.WriteBehind.Tests.Support;
using Microsoft.Data.Sqlite;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Host;

/// <summary>
/// <c>POST /counters/flush</c> on the real Host (journal durability, a flush interval of an hour so nothing flushes on its
/// own): 503 with the JSON error body while another process holds the SQLite file's write lock, then 200 with the number
/// of keys once it is free, with every acknowledged increment in the file while the Host still runs.
/// </summary>
public sealed class CounterFlushAllEndToEndSpec(ITestOutputHelper output) : IDisposable
{
    private const int Keys = 100;
    private readonly TempDirectory _dataDir = new();
    private HostProcess? _host;

    [Fact]
    public async Task Should_answer_503_while_the_store_is_locked_and_200_once_every_key_is_stored()
    {
        var (host, _) = await HostProcess.StartAsync(_dataDir.Path, "--flush-interval", "1h", "--durability", "journal");
        _host = host;
        using var http = host.CreateClient(4);
        var expected = new Dictionary<string, long>(StringComparer.Ordinal);
        var items = new StringBuilder("[");
        for (var i = 0; i < 3 * Keys; i++)
        {
            var key = $"flush-all:{i % Keys}";
            items.Append(i == 0 ? "" : ",").Append($$"""{"key": "{{key}}", "delta": {{i + 1}}}""");
            expected[key] = expected.GetValueOrDefault(key) + i + 1;
        }

        var increments = await HostHttp.PostJsonAsync(http, "counters/increments", items.Append(']').ToString(), HttpStatusCode.OK);
        Assert.All(increments.GetProperty("results").EnumerateArray(), r => Assert.Equal(202, r.GetProperty("status").GetInt32()));
        Assert.Empty(HostProcess.ReadCounters(_dataDir.DatabaseFile));

        // the write lock held elsewhere: the flushes cannot store, and the caller hears so (never "done")
        await using (var locker = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = _dataDir.DatabaseFile, Pooling = false }.ToString()))
        {
            await locker.OpenAsync();
            await using (var exclusive = locker.CreateCommand())
            {
                exclusive.CommandText = "BEGIN EXCLUSIVE";
                await exclusive.ExecuteNonQueryAsync();
            }

            var clock = Stopwatch.StartNew();
            using var refused = await http.PostAsync("counters/flush", null);
            var body = await HostHttp.ReadJsonAsync(refused, HttpStatusCode.ServiceUnavailable);
            output.WriteLine($"locked: {(int)refused.StatusCode} after {clock.Elapsed.TotalSeconds:F1}s: {body}");
            Assert.Contains(body.GetProperty("error").GetString(), new[] { "store_failure", "timeout" });
            Assert.False(string.IsNullOrWhiteSpace(body.GetProperty("message").GetString()));
        }

        // free again: the failed writes are retried with back-off, so a flush-all may need a few tries
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        HttpResponseMessage response;
        while ((response = await http.PostAsync("counters/flush", null)).StatusCode != HttpStatusCode.OK && DateTime.UtcNow < deadline)
        {
            output.WriteLine($"after unlock: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            response.Dispose();
        }

        using (response)
        {
            var flushed = await HostHttp.ReadJsonAsync(response, HttpStatusCode.OK);
            Assert.Equal(1, flushed.GetProperty("nodes").GetInt32());
            Assert.True(flushed.GetProperty("keys").GetInt64() <= Keys, flushed.ToString());
        }

        Assert.Equal(expected, HostProcess.ReadCounters(_dataDir.DatabaseFile));
        await host.StopAsync();
        Assert.True(host.ExitCode == 0, $"exit code {host.ExitCode}\n{host.Tail()}");
    }

    public void Dispose()
    {
        _host?.Dispose();
        _dataDir.Dispose();
    }
}
