using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using Akka.WriteBehind.Tests.Support;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Host;

/// <summary>
/// Idempotency keys on the Host's counter routes: the <c>Idempotency-Key</c> header on <c>POST /counters/{key}/increment</c>
/// and an <c>id</c> per item of <c>POST /counters/increments</c>, against a Host process in journal durability on SQLite.
/// </summary>
public sealed class IdempotencyEndToEndSpec(ITestOutputHelper output) : IDisposable
{
    private const int Keys = 20;
    private const int Clients = 8;
    private const int RequestsPerClient = 150;
    private const int Crashes = 3;

    private readonly SqliteTestDatabase _database = new();
    private readonly List<HostProcess> _hosts = new();

    [Fact]
    public async Task Should_answer_a_repeated_request_as_the_first_and_count_it_once()
    {
        var host = await StartAsync();
        using var http = host.CreateClient(4);

        for (var i = 0; i < 3; i++)
        {
            using var response = await IncrementAsync(http, "idem", 5, "req-1");
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            Assert.Equal("""{"key":"idem","delta":5,"durability":"journal"}""", await response.Content.ReadAsStringAsync());
        }

        // fan-out items with ids: a repeat of the header's id for the same key, a repeat within the body, and a new one
        using (var response = await http.PostAsync("counters/increments", Json("""
                   [{"key": "idem", "delta": 5, "id": "req-1"}, {"key": "idem", "delta": 2, "id": "req-2"},
                    {"key": "idem", "delta": 2, "id": "req-2"}, {"key": "idem", "delta": 1}]
                   """)))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var statuses = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("results")
                .EnumerateArray().Select(r => r.GetProperty("status").GetInt32());
            Assert.All(statuses, s => Assert.Equal(202, s));
        }

        using (var flushed = await http.PostAsync("counters/idem/flush", null))
            Assert.Equal("""{"key":"idem","stored":8}""", await flushed.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Should_answer_repeated_item_puts_and_deletes_as_the_first()
    {
        var host = await StartAsync();
        using var http = host.CreateClient(2);

        async Task<(HttpStatusCode Status, string Body)> SendAsync(HttpMethod method, string body, string? key)
        {
            using var request = new HttpRequestMessage(method, "items/job-1") { Content = method == HttpMethod.Put ? Json(body) : null };
            if (key is not null)
                request.Headers.Add("Idempotency-Key", key);
            using var response = await http.SendAsync(request);
            return (response.StatusCode, await response.Content.ReadAsStringAsync());
        }

        var created = await SendAsync(HttpMethod.Put, """{"status": "queued"}""", "put-1");
        Assert.Equal(HttpStatusCode.Created, created.Status);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Put, """{"status": "running"}""", null)).Status);
        // the retry of the first PUT answers 201 as the first did and does not put "queued" back
        Assert.Equal(created, await SendAsync(HttpMethod.Put, """{"status": "queued"}""", "put-1"));
        using (var read = await http.GetAsync("items/job-1"))
            Assert.Contains("running", await read.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.NoContent, (await SendAsync(HttpMethod.Delete, "", "del-1")).Status);
        Assert.Equal(HttpStatusCode.NoContent, (await SendAsync(HttpMethod.Delete, "", "del-1")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(HttpMethod.Delete, "", null)).Status);
    }

    [Theory]
    [InlineData("has space")]
    [InlineData("")]
    [InlineData("129-characters-" + "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")]
    public async Task Should_refuse_an_invalid_idempotency_key_and_apply_nothing(string key)
    {
        var host = await StartAsync();
        using var http = host.CreateClient(2);
        using var request = new HttpRequestMessage(HttpMethod.Post, "counters/bad/increment") { Content = Json("""{"delta": 5}""") };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", key);
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("\"error\":\"invalid_argument\"", await response.Content.ReadAsStringAsync());

        using var fanOut = await http.PostAsync("counters/increments", Json("""[{"key": "bad", "delta": 5, "id": 7}]"""));
        Assert.Equal(HttpStatusCode.BadRequest, fanOut.StatusCode);
        using var read = await http.GetAsync("counters/bad");
        Assert.Contains("\"total\":0", await read.Content.ReadAsStringAsync());
    }

    /// <summary>
    /// A retry storm across <c>kill -9</c>: every client sends distinct requests, each with its own idempotency key, and retries
    /// it until it is acknowledged (through crashes and restarts); some are sent again after their acknowledgement. The stored
    /// totals must equal the sum of the distinct requests exactly.
    /// </summary>
    [Fact]
    public async Task Should_store_exactly_the_distinct_requests_under_a_retry_storm_across_sigkills()
    {
        var random = new Random(20_261_205);
        var expected = new ConcurrentDictionary<string, long>();
        var current = new CurrentHost();
        current.Set(await StartAsync());
        var clients = Enumerable.Range(0, Clients)
            .Select(c => RunClientAsync(c, new Random(random.Next()), current, expected))
            .ToArray();

        for (var crash = 0; crash < Crashes; crash++)
        {
            var before = expected.Values.Sum();
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (expected.Values.Sum() < before + 100 && DateTime.UtcNow < deadline && !clients.All(c => c.IsCompleted))
                await Task.Delay(50);
            await Task.Delay(random.Next(200, 1_500));
            await current.Host.KillAsync();
            output.WriteLine($"crash {crash + 1}: {expected.Count} keys, {expected.Values.Sum()} acknowledged so far");
            current.Set(await StartAsync());
        }

        await Task.WhenAll(clients);
        using (var http = current.Host.CreateClient(Clients))
            for (var k = 0; k < Keys; k++)
            {
                using var response = await http.PostAsync($"counters/storm-{k}/flush", null);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }

        await current.Host.StopAsync();
        var stored = await _database.ReadCountersAsync();
        output.WriteLine($"stored {stored.Values.Sum()}, distinct requests {expected.Values.Sum()}");
        Assert.Equal(expected.OrderBy(e => e.Key).ToList(), stored.OrderBy(e => e.Key).ToList());
    }

    public void Dispose()
    {
        foreach (var host in _hosts)
            host.Dispose();
        _database.Dispose();
    }

    private async Task RunClientAsync(int client, Random random, CurrentHost current, ConcurrentDictionary<string, long> expected)
    {
        for (var n = 0; n < RequestsPerClient; n++)
        {
            var key = $"storm-{random.Next(Keys)}";
            var delta = random.Next(1, 100);
            var id = $"c{client}-{n}";
            await SendUntilAcknowledgedAsync(current, key, delta, id);
            expected.AddOrUpdate(key, delta, (_, v) => v + delta);
            if (random.Next(5) == 0)
                await SendUntilAcknowledgedAsync(current, key, delta, id); // the client did not see the answer: a re-send
        }
    }

    private static async Task SendUntilAcknowledgedAsync(CurrentHost current, string key, long delta, string id)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                using var response = await IncrementAsync(current.Client, key, delta, id);
                if (response.StatusCode == HttpStatusCode.Accepted)
                    return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or ObjectDisposedException)
            {
                // the process died under the request (or is being replaced): the outcome is unknown, so retry with the same key
            }

            if (attempt > 2_000)
                throw new TimeoutException($"{id} was never acknowledged");
            await Task.Delay(100);
        }
    }

    private static Task<HttpResponseMessage> IncrementAsync(HttpClient http, string key, long delta, string id)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"counters/{key}/increment") { Content = Json($$"""{"delta": {{delta}}}""") };
        request.Headers.Add("Idempotency-Key", id);
        return http.SendAsync(request);
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    private async Task<HostProcess> StartAsync()
    {
        var (host, _) = await HostProcess.StartAsync(_database.Dir.Path, ["--flush-interval", "300ms", "--durability", "journal"]);
        _hosts.Add(host);
        return host;
    }

    /// <summary>The Host process the clients talk to now, and a client for it.</summary>
    private sealed class CurrentHost
    {
        private volatile Tuple<HostProcess, HttpClient>? _current;

        public HostProcess Host => _current!.Item1;

        public HttpClient Client => _current!.Item2;

        public void Set(HostProcess host) => _current = Tuple.Create(host, host.CreateClient(Clients));
    }
}
