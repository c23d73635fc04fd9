using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Akka.WriteBehind.Tests.Support;

namespace Akka.WriteBehind.Tests.Host;

/// <summary>One Host process started with <c>--api-key</c>, shared by the security specs.</summary>
public sealed class KeyedHostFixture : IAsyncLifetime
{
    public const string Key = "spec-key-0123456789abcdef";

    private readonly TempDirectory _dir = new();

    internal HostProcess Host { get; private set; } = null!;

    public async Task InitializeAsync() =>
        (Host, _) = await HostProcess.StartAsync(_dir.Path, "--api-key", Key, "--durability", "memory", "--flush-interval", "200ms");

    public async Task DisposeAsync()
    {
        if (Host is not null)
        {
            await Host.StopAsync();
            Host.Dispose();
        }

        _dir.Dispose();
    }
}

/// <summary>
/// The API keeps strangers out: with <c>--api-key</c> every endpoint but <c>/health</c> and <c>/ready</c> answers 401
/// without the bearer key or with a wrong one (reads, <c>/metrics</c> and the status page included); bodies that are not
/// JSON get 415; an HTTP address beyond loopback without a key refuses to start (exit code 2).
/// </summary>
public sealed class ApiSecuritySpec(KeyedHostFixture node) : IClassFixture<KeyedHostFixture>
{
    public static readonly TheoryData<string, string> ProtectedRequests = new()
    {
        { "GET", "counters/sec:a" },
        { "POST", "counters/sec:a/increment" },
        { "POST", "counters/sec:a/flush" },
        { "POST", "counters/increments" },
        { "POST", "counters/flush" },
        { "GET", "accounts/sec:a" },
        { "POST", "accounts/sec:a/deposit" },
        { "GET", "items/sec:a" },
        { "DELETE", "items/sec:a" },
        { "GET", "stats" },
        { "GET", "metrics" },
        { "GET", "" },
        { "GET", "status/app.js" },
        { "GET", "no/such/route" },
    };

    [Theory]
    [MemberData(nameof(ProtectedRequests))]
    public async Task Should_answer_401_without_a_key(string method, string path)
    {
        using var http = node.Host.CreateClient(2);

        await HostHttp.AssertErrorAsync(http.SendAsync(Request(method, path)), HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Theory]
    [InlineData("Bearer", "spec-key-0123456789abcdeX")]
    [InlineData("Bearer", "spec-key")]
    [InlineData("Bearer", "")]
    [InlineData("Basic", KeyedHostFixture.Key)]
    public async Task Should_answer_401_with_a_wrong_key(string scheme, string key)
    {
        using var http = node.Host.CreateClient(2);
        foreach (var (method, path) in new[] { ("GET", "counters/sec:a"), ("POST", "counters/sec:a/increment"), ("GET", "stats") })
        {
            var request = Request(method, path);
            request.Headers.TryAddWithoutValidation("Authorization", $"{scheme} {key}");
            await HostHttp.AssertErrorAsync(http.SendAsync(request), HttpStatusCode.Unauthorized, "unauthorized");
        }
    }

    [Fact]
    public async Task Should_serve_health_and_ready_without_a_key()
    {
        using var http = node.Host.CreateClient(2);

        Assert.Equal("up", (await HostHttp.GetJsonAsync(http, "health", HttpStatusCode.OK)).GetProperty("status").GetString());
        Assert.Equal("ready", (await HostHttp.GetJsonAsync(http, "ready", HttpStatusCode.OK)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Should_serve_every_endpoint_with_the_key()
    {
        using var http = Keyed(node.Host.CreateClient(2));

        await HostHttp.PostJsonAsync(http, "counters/sec:ok/increment", "{\"delta\":3}", HttpStatusCode.Accepted);
        Assert.Equal(3, (await HostHttp.GetJsonAsync(http, "counters/sec:ok", HttpStatusCode.OK)).GetProperty("total").GetInt64());
        await HostHttp.PostJsonAsync(http, "counters/sec:ok/flush", null, HttpStatusCode.OK); // no body: no content type needed
        await HostHttp.GetJsonAsync(http, "stats", HttpStatusCode.OK);
        using var metrics = await http.GetAsync("metrics");
        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        using var page = await http.GetAsync("");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
    }

    [Theory]
    [InlineData("counters/sec:b/increment", "text/plain")]
    [InlineData("counters/sec:b/increment", "application/x-www-form-urlencoded")]
    [InlineData("counters/sec:b/increment", "multipart/form-data; boundary=x")]
    [InlineData("counters/sec:b/increment", null)]
    [InlineData("counters/increments", "text/plain")]
    [InlineData("accounts/sec:b/deposit", "text/plain")]
    [InlineData("accounts/operations", "text/plain")]
    public async Task Should_answer_415_for_a_body_that_is_not_json(string path, string? contentType)
    {
        using var http = Keyed(node.Host.CreateClient(2));
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes("{\"delta\":1,\"amount\":1}"));
        if (contentType is not null)
            content.Headers.TryAddWithoutValidation("Content-Type", contentType);

        await HostHttp.AssertErrorAsync(http.PostAsync(path, content), HttpStatusCode.UnsupportedMediaType, "unsupported_media_type");
        Assert.Equal(0, (await HostHttp.GetJsonAsync(http, "counters/sec:b", HttpStatusCode.OK)).GetProperty("total").GetInt64());
    }

    [Fact]
    public async Task Should_answer_415_for_a_put_that_is_not_json()
    {
        using var http = Keyed(node.Host.CreateClient(2));

        await HostHttp.AssertErrorAsync(http.PutAsync("items/sec:c", new StringContent("{}", Encoding.UTF8, "text/plain")),
            HttpStatusCode.UnsupportedMediaType, "unsupported_media_type");
    }

    [Fact]
    public async Task Should_not_answer_cors_preflights()
    {
        using var http = node.Host.CreateClient(2);
        var preflight = Request("OPTIONS", "counters/sec:a/increment");
        preflight.Headers.Add("Origin", "https://evil.example");
        preflight.Headers.Add("Access-Control-Request-Method", "POST");

        using var response = await http.SendAsync(preflight);
        Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"));
        Assert.NotEqual(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Should_refuse_to_serve_beyond_loopback_without_a_key()
    {
        using var dir = new TempDirectory();

        var (exitCode, output) = await HostProcess.RunToExitAsync(dir.Path, "--http-address", "0.0.0.0");

        Assert.True(exitCode == 2, $"exit code {exitCode}\n{output}");
        Assert.Contains("--http-address 0.0.0.0 is reachable from other machines", output);
        Assert.Contains("--allow-anonymous", output);
    }

    [Fact]
    public async Task Should_serve_metrics_without_the_key_when_asked_and_nothing_else()
    {
        using var dir = new TempDirectory();
        var (host, _) = await HostProcess.StartAsync(dir.Path, "--api-key", KeyedHostFixture.Key, "--metrics-anonymous");
        try
        {
            using var http = host.CreateClient(2);
            using var metrics = await http.GetAsync("metrics");
            Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
            await HostHttp.AssertErrorAsync(http.GetAsync("stats"), HttpStatusCode.Unauthorized, "unauthorized");
        }
        finally
        {
            await host.StopAsync();
            host.Dispose();
        }
    }

    [Fact]
    public async Task Status_page_should_work_in_a_browser_that_sends_the_key()
    {
        var url = $"http://127.0.0.1:{node.Host.HttpPort}/";
        await using (var stranger = await HeadlessChromium.StartAsync())
        {
            await stranger.NavigateAsync(url);
            Assert.Contains("unauthorized", (string?)await stranger.EvaluateAsync("document.body.innerText"));
        }

        await using var keyed = await HeadlessChromium.StartAsync(new Dictionary<string, string> { ["Authorization"] = $"Bearer {KeyedHostFixture.Key}" });
        await keyed.NavigateAsync(url);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while ((string?)await keyed.EvaluateAsync("document.getElementById('poll-state').dataset.state || ''") != "ok")
        {
            Assert.True(DateTime.UtcNow < deadline, "the page's /stats polls do not succeed: " + string.Join("\n", keyed.Problems));
            await Task.Delay(200);
        }

        Assert.True(keyed.Problems.Count == 0, "the page reported errors:\n" + string.Join("\n", keyed.Problems));
    }

    private static HttpRequestMessage Request(string method, string path)
    {
        var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method is "POST" or "PUT")
            request.Content = new StringContent("{\"delta\":1}", Encoding.UTF8, "application/json");
        return request;
    }

    private static HttpClient Keyed(HttpClient http)
    {
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", KeyedHostFixture.Key);
        return http;
    }
}
