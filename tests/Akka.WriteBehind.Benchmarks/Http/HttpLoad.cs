using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using HdrHistogram;

namespace Akka.WriteBehind.Benchmarks.Http;

/// <summary>What the load generator does: where, how many connections, which endpoint, how long and how much at most.</summary>
/// <param name="BaseAddress">The server's base address.</param>
/// <param name="Keys">Key names; increment <c>i</c> goes to <see cref="HttpLoad.KeyIndex"/>(i).</param>
/// <param name="ItemsPerRequest">
/// 1: <c>POST /counters/{key}/increment</c>; more: <c>POST /counters/increments</c> with that many items.
/// </param>
/// <param name="Connections">Keep-alive connections, one sender each (a sender awaits its answer before the next request).</param>
/// <param name="Duration">No request is started after this long.</param>
/// <param name="MaxIncrements">Nor once this many increments were sent.</param>
/// <param name="ApiKey">Sent as <c>Authorization: Bearer</c> when set.</param>
internal sealed record HttpLoadPlan(
    Uri BaseAddress, string[] Keys, int ItemsPerRequest, int Connections, TimeSpan Duration, long MaxIncrements, string? ApiKey);

/// <summary>What came back. Per key: increments sent and acknowledged (for the acknowledged ≤ stored ≤ sent check).</summary>
/// <param name="Requests">Requests that got an answer or failed.</param>
/// <param name="Sent">Increments in requests sent.</param>
/// <param name="Acknowledged">Increments answered 2xx (the Host answers 202).</param>
/// <param name="Refused">Increments answered with another status (the request's, or the fan-out item's).</param>
/// <param name="NoAnswer">Increments whose request got no answer (connection error, client timeout): outcome unknown.</param>
/// <param name="Statuses">Non-2xx answers by status: requests (single) or items (fan-out).</param>
/// <param name="SentPerKey">Increments sent, per key index.</param>
/// <param name="AcknowledgedPerKey">Increments acknowledged, per key index.</param>
/// <param name="Elapsed">From the first request to the last answer.</param>
/// <param name="Latency">Request round-trip times, microseconds.</param>
/// <param name="FirstError">The first failure without an answer, for the report.</param>
internal sealed record HttpLoadResult(
    long Requests,
    long Sent,
    long Acknowledged,
    long Refused,
    long NoAnswer,
    IReadOnlyDictionary<string, long> Statuses,
    long[] SentPerKey,
    long[] AcknowledgedPerKey,
    TimeSpan Elapsed,
    HistogramBase Latency,
    string? FirstError);

/// <summary>
/// The http scenario's load generator: one <see cref="HttpClient"/> on a <see cref="SocketsHttpHandler"/> with
/// <see cref="HttpLoadPlan.Connections"/> keep-alive connections and as many concurrent senders, each sending its next
/// request when the previous one is answered (closed loop), bodies as JSON (<c>Content-Type: application/json</c>).
/// Bounded in time and in count; stops by itself.
/// </summary>
internal static class HttpLoad
{
    /// <summary>The client gives up on a request after this long (counted as no answer).</summary>
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Highest round trip the histograms hold: 5 minutes, in µs (far above the client's timeout).</summary>
    private const long LatencyMaxMicros = 300_000_000;

    private static readonly byte[] SingleBody = """{"delta":1}"""u8.ToArray();
    private static readonly MediaTypeHeaderValue Json = new("application/json");

    /// <summary>
    /// The key index of increment <paramref name="i"/>: uniform over the keys, the same for every system (a fixed hash, no
    /// array of the whole run).
    /// </summary>
    public static int KeyIndex(long i, int keys)
    {
        // splitmix64 finalizer
        var z = (ulong)i + 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return (int)(z % (ulong)keys);
    }

    /// <summary>The client every sender shares: <paramref name="connections"/> pooled keep-alive connections.</summary>
    public static HttpClient CreateClient(Uri baseAddress, int connections, string? apiKey)
    {
        var client = new HttpClient(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = connections,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            UseCookies = false,
            UseProxy = false,
            AutomaticDecompression = DecompressionMethods.None,
        })
        {
            BaseAddress = baseAddress,
            Timeout = RequestTimeout,
        };
        if (apiKey is not null)
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        return client;
    }

    public static async Task<HttpLoadResult> RunAsync(HttpClient client, HttpLoadPlan plan)
    {
        var paths = plan.Keys.Select(k => new Uri(plan.BaseAddress, $"counters/{Uri.EscapeDataString(k)}/increment")).ToArray();
        var fanOut = new Uri(plan.BaseAddress, "counters/increments");
        var run = new Run(plan, paths, fanOut);
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, plan.Connections).Select(_ => Task.Run(() => run.SenderAsync(client, clock))));
        var elapsed = clock.Elapsed;
        return run.Result(elapsed);
    }

    /// <summary>The shared state of one run: the next increment index, the per-key counts, the tallies.</summary>
    private sealed class Run(HttpLoadPlan plan, Uri[] paths, Uri fanOut)
    {
        private readonly long[] _sentPerKey = new long[plan.Keys.Length];
        private readonly long[] _acknowledgedPerKey = new long[plan.Keys.Length];
        private readonly Dictionary<string, long> _statuses = new(StringComparer.Ordinal);
        private readonly LongHistogram _latency = new(LatencyMaxMicros, 3);
        private long _next;
        private long _requests;
        private long _sent;
        private long _acknowledged;
        private long _refused;
        private long _noAnswer;
        private string? _firstError;

        public async Task SenderAsync(HttpClient client, Stopwatch clock)
        {
            var indexes = new int[plan.ItemsPerRequest];
            var latency = new LongHistogram(LatencyMaxMicros, 3);
            var statuses = new Dictionary<string, long>(StringComparer.Ordinal);
            var body = new ArrayBufferWriter<byte>(plan.ItemsPerRequest * 32);
            while (clock.Elapsed < plan.Duration)
            {
                var first = Interlocked.Add(ref _next, plan.ItemsPerRequest) - plan.ItemsPerRequest;
                if (first >= plan.MaxIncrements)
                    break;
                var count = (int)Math.Min(plan.ItemsPerRequest, plan.MaxIncrements - first);
                for (var j = 0; j < count; j++)
                {
                    indexes[j] = KeyIndex(first + j, plan.Keys.Length);
                    Interlocked.Increment(ref _sentPerKey[indexes[j]]);
                }

                using var request = plan.ItemsPerRequest == 1
                    ? Request(paths[indexes[0]], SingleBody)
                    : Request(fanOut, FanOutBody(body, indexes.AsSpan(0, count)));
                Interlocked.Add(ref _sent, count);
                var started = Stopwatch.GetTimestamp();
                try
                {
                    using var response = await client.SendAsync(request, HttpCompletionOption.ResponseContentRead)
                        .ConfigureAwait(false);
                    latency.RecordValue(Math.Max(1, (long)Stopwatch.GetElapsedTime(started).TotalMicroseconds));
                    if (plan.ItemsPerRequest == 1 || response.StatusCode != HttpStatusCode.OK)
                    {
                        var status = (int)response.StatusCode;
                        Count(IsSuccess(status), status, indexes.AsSpan(0, count), statuses);
                    }
                    else
                        await CountFanOutAsync(response, indexes, count, statuses).ConfigureAwait(false);
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
                {
                    Interlocked.Add(ref _noAnswer, count);
                    Interlocked.CompareExchange(ref _firstError, $"{e.GetType().Name}: {e.Message}", null);
                }

                Interlocked.Increment(ref _requests);
            }

            lock (_latency)
            {
                _latency.Add(latency);
                foreach (var (status, n) in statuses)
                    _statuses[status] = _statuses.GetValueOrDefault(status) + n;
            }
        }

        public HttpLoadResult Result(TimeSpan elapsed) =>
            new(_requests, _sent, _acknowledged, _refused, _noAnswer, _statuses, _sentPerKey, _acknowledgedPerKey, elapsed, _latency,
                _firstError);

        /// <summary>Any 2xx counts as acknowledged (the Host answers 202 today), so a change of success code is not a loss.</summary>
        private static bool IsSuccess(int status) => status is >= 200 and < 300;

        private static HttpRequestMessage Request(Uri uri, byte[] body)
        {
            var content = new ByteArrayContent(body);
            content.Headers.ContentType = Json;
            return new HttpRequestMessage(HttpMethod.Post, uri) { Content = content };
        }

        private byte[] FanOutBody(ArrayBufferWriter<byte> buffer, ReadOnlySpan<int> indexes)
        {
            buffer.ResetWrittenCount();
            using (var json = new Utf8JsonWriter(buffer))
            {
                json.WriteStartArray();
                foreach (var k in indexes)
                {
                    json.WriteStartObject();
                    json.WriteString("key", plan.Keys[k]);
                    json.WriteNumber("delta", 1);
                    json.WriteEndObject();
                }

                json.WriteEndArray();
            }

            return buffer.WrittenSpan.ToArray();
        }

        private void Count(bool acknowledged, int status, ReadOnlySpan<int> indexes, Dictionary<string, long> statuses)
        {
            if (acknowledged)
            {
                Interlocked.Add(ref _acknowledged, indexes.Length);
                foreach (var k in indexes)
                    Interlocked.Increment(ref _acknowledgedPerKey[k]);
                return;
            }

            Interlocked.Add(ref _refused, indexes.Length);
            var name = status.ToString(System.Globalization.CultureInfo.InvariantCulture);
            statuses[name] = statuses.GetValueOrDefault(name) + (plan.ItemsPerRequest == 1 ? 1 : indexes.Length);
        }

        /// <summary>A fan-out answer: one result per item, in the request's order, each with its own status (2xx: acknowledged).</summary>
        private async Task CountFanOutAsync(
            HttpResponseMessage response, int[] indexes, int count, Dictionary<string, long> statuses)
        {
            await using var stream = await response.Content.ReadAsStreamAsync().ConfigureAwait(false);
            using var document = await JsonDocument.ParseAsync(stream).ConfigureAwait(false);
            var seen = 0;
            foreach (var item in document.RootElement.GetProperty("results").EnumerateArray())
            {
                var index = item.GetProperty("index").GetInt32();
                var status = item.GetProperty("status").GetInt32();
                if (index < 0 || index >= count)
                    throw new InvalidOperationException($"fan-out answer names item {index} of a request of {count}");
                Count(IsSuccess(status), status, indexes.AsSpan(index, 1), statuses);
                seen++;
            }

            if (seen != count)
                throw new InvalidOperationException($"fan-out answer holds {seen} results for {count} items");
        }
    }
}
