using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text;
using Microsoft.Data.Sqlite;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Host;

/// <summary>
/// Journal durability against real crashes: clients increment through the Host's HTTP API and record what was acknowledged
/// (202) and what was sent; the process is SIGKILLed at random points and restarted on the same files. Afterwards, for every
/// key, acknowledged ≤ stored ≤ sent: nothing acknowledged is lost, nothing is applied twice.
/// </summary>
public sealed class HostCrashSpec(ITestOutputHelper output) : IDisposable
{
    private const int Keys = 50;
    private const int Clients = 16;
    private const int Crashes = 3;

    private readonly string _dataDir = CreateDataDir();
    private readonly List<HostProcess> _hosts = new();

    [Fact]
    public async Task Should_lose_nothing_acknowledged_and_apply_nothing_twice_across_sigkills()
    {
        var random = new Random(20_261_124);
        var acknowledged = new ConcurrentDictionary<string, long>();
        var sent = new ConcurrentDictionary<string, long>();
        var clock = Stopwatch.StartNew();

        for (var crash = 0; crash < Crashes; crash++)
        {
            var host = await StartAsync();
            using var http = host.CreateClient(Clients);
            using var stop = new CancellationTokenSource();
            var clients = Enumerable.Range(0, Clients)
                .Select(c => IncrementUntilStoppedAsync(http, new Random(random.Next()), acknowledged, sent, stop.Token))
                .ToArray();

            // once this node acknowledges increments, let the clients run a random while more, then kill the process under them
            var before = acknowledged.Values.Sum();
            var deadline = Stopwatch.StartNew();
            while (acknowledged.Values.Sum() < before + 50 && deadline.Elapsed < TimeSpan.FromSeconds(60))
                await Task.Delay(50);
            await Task.Delay(TimeSpan.FromMilliseconds(random.Next(300, 2_000)));
            await host.KillAsync();
            stop.Cancel();
            await Task.WhenAll(clients);
            output.WriteLine($"crash {crash + 1} after {clock.Elapsed.TotalSeconds:F1}s: {acknowledged.Values.Sum()} acknowledged, {sent.Values.Sum()} sent");
        }

        // the last node: every key is flushed (recovery replays the journal; nobody needs to touch the key first)
        var last = await StartAsync();
        using (var http = last.CreateClient(Clients))
        {
            foreach (var key in sent.Keys)
            {
                using var response = await http.PostAsync($"counters/{Uri.EscapeDataString(key)}/flush", null);
                Assert.True(response.StatusCode == HttpStatusCode.OK, $"flush {key}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            }
        }

        await last.StopAsync();
        Assert.True(last.ExitCode == 0, $"exit code {last.ExitCode}\n{last.Tail()}");

        SqliteConnection.ClearAllPools();
        var stored = HostProcess.ReadCounters(Path.Combine(_dataDir, "writebehind.db"));
        var violations = sent.Keys
            .Select(key => (key, ack: acknowledged.GetValueOrDefault(key), stored: stored.GetValueOrDefault(key), sent: sent[key]))
            .Where(k => k.ack > k.stored || k.stored > k.sent)
            .Select(k => $"{k.key}: acknowledged {k.ack}, stored {k.stored}, sent {k.sent}")
            .ToList();
        output.WriteLine($"acknowledged {acknowledged.Values.Sum()}, stored {stored.Values.Sum()}, sent {sent.Values.Sum()} in {clock.Elapsed.TotalSeconds:F1}s");
        Assert.True(acknowledged.Values.Sum() > 0, "no increment was acknowledged: the test proved nothing");
        Assert.True(violations.Count == 0, $"{violations.Count} keys violate acknowledged <= stored <= sent: {string.Join(" | ", violations.Take(5))}");
    }

    public void Dispose()
    {
        foreach (var host in _hosts)
            host.Dispose();
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

    private async Task<HostProcess> StartAsync()
    {
        var (host, _) = await HostProcess.StartAsync(_dataDir, "--flush-interval", "300ms", "--durability", "journal");
        _hosts.Add(host);
        return host;
    }

    /// <summary>Positive deltas only, so that acknowledged ≤ stored ≤ sent must hold per key.</summary>
    private static async Task IncrementUntilStoppedAsync(HttpClient http, Random random, ConcurrentDictionary<string, long> acknowledged,
        ConcurrentDictionary<string, long> sent, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            var key = $"crash:{random.Next(Keys)}";
            var delta = random.Next(1, 100);
            sent.AddOrUpdate(key, delta, (_, v) => v + delta);
            try
            {
                using var response = await http.PostAsync($"counters/{Uri.EscapeDataString(key)}/increment",
                    new StringContent($"{{\"delta\":{delta}}}", Encoding.UTF8, "application/json"));
                if (response.StatusCode == HttpStatusCode.Accepted)
                    acknowledged.AddOrUpdate(key, delta, (_, v) => v + delta);
            }
            catch (HttpRequestException)
            {
                return; // the process died under the request: sent, not acknowledged
            }
            catch (TaskCanceledException)
            {
                return;
            }
        }
    }

    private static string CreateDataDir()
    {
        var dir = Path.Combine(Path.GetTempPath(), "akka-wb-host-crash", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }
}
