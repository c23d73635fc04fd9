using System.Net;
using System.Text;
using System.Text.Json;
using Akka.WriteBehind.Tests.Support;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Host;

/// <summary>
/// Retrying account requests over HTTP against the real Host: a repeated <c>Idempotency-Key</c> (or fan-out <c>id</c>) is
/// answered with the first response and applied once, also after the Host was killed with SIGKILL and started again on the
/// same SQLite file; invalid keys are refused with 400 before anything runs.
/// </summary>
public sealed class AccountsIdempotencyEndToEndSpec(ITestOutputHelper output) : IDisposable
{
    private readonly TempDirectory _dataDir = new();
    private HostProcess? _host;

    [Fact]
    public async Task Should_answer_a_repeated_idempotency_key_with_the_first_response_also_after_a_kill()
    {
        Assert.True(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS(), "this spec kills the Host with SIGKILL");
        var (host, _) = await HostProcess.StartAsync(_dataDir.Path);
        _host = host;
        using var http = host.CreateClient(4);
        const string path = "accounts/idem:a";

        var (status, first) = await PostAsync(http, $"{path}/deposit", """{"amount": 30}""", "dep-30");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(30, Balance(first));
        Assert.Equal(35, Balance((await PostAsync(http, $"{path}/deposit", """{"amount": 5}""", null)).Body));

        // the repeat: the first response, byte for byte; nothing applied
        Assert.Equal((HttpStatusCode.OK, first), await PostAsync(http, $"{path}/deposit", """{"amount": 30}""", "dep-30"));
        var (_, withdrawn) = await PostAsync(http, $"{path}/withdraw", """{"amount": 10}""", "wd-10");
        Assert.Equal(25, Balance(withdrawn));
        Assert.Equal((HttpStatusCode.OK, withdrawn), await PostAsync(http, $"{path}/withdraw", """{"amount": 10}""", "wd-10"));
        Assert.Equal(25, (await HostHttp.GetJsonAsync(http, path, HttpStatusCode.OK)).GetProperty("balance").GetInt64());

        // fan-out ids: a repeat in the same request and a repeat of the whole request are applied once
        const string fanOut = """
            [{"key": "idem:f", "op": "deposit", "amount": 3, "id": "f-1"},
             {"key": "idem:f", "op": "deposit", "amount": 3, "id": "f-1"},
             {"key": "idem:f", "op": "deposit", "amount": 4}]
            """;
        var results = Results(await HostHttp.PostJsonAsync(http, "accounts/operations", fanOut, HttpStatusCode.OK));
        Assert.Equal([200, 200, 200], results.Select(r => r.GetProperty("status").GetInt32()));
        Assert.Equal(results[0].GetProperty("balance").GetInt64(), results[1].GetProperty("balance").GetInt64());
        Assert.Equal(7, (await HostHttp.GetJsonAsync(http, "accounts/idem:f", HttpStatusCode.OK)).GetProperty("balance").GetInt64());
        var again = Results(await HostHttp.PostJsonAsync(http, "accounts/operations", fanOut, HttpStatusCode.OK));
        Assert.Equal(results[0].GetProperty("balance").GetInt64(), again[0].GetProperty("balance").GetInt64());
        Assert.Equal(11, (await HostHttp.GetJsonAsync(http, "accounts/idem:f", HttpStatusCode.OK)).GetProperty("balance").GetInt64());

        // SIGKILL: the ids were saved with the accounts, so a new Host on the same file still answers them
        await host.KillAsync();
        (host, _) = await HostProcess.StartAsync(_dataDir.Path);
        _host.Dispose();
        _host = host;
        using var http2 = host.CreateClient(4);
        Assert.Equal((HttpStatusCode.OK, first), await PostAsync(http2, $"{path}/deposit", """{"amount": 30}""", "dep-30"));
        Assert.Equal((HttpStatusCode.OK, withdrawn), await PostAsync(http2, $"{path}/withdraw", """{"amount": 10}""", "wd-10"));
        Assert.Equal(25, (await HostHttp.GetJsonAsync(http2, path, HttpStatusCode.OK)).GetProperty("balance").GetInt64());

        await host.StopAsync();
        Assert.True(host.ExitCode == 0, $"exit code {host.ExitCode}\n{host.Tail()}");
        output.WriteLine(host.Tail());
    }

    [Fact]
    public async Task Should_refuse_invalid_idempotency_keys_and_ids_with_400_and_run_nothing()
    {
        var (host, _) = await HostProcess.StartAsync(_dataDir.Path, "--durability", "memory");
        _host = host;
        using var http = host.CreateClient(4);

        foreach (var invalid in new[] { "has space", new string('k', 129) })
        {
            using var request = Request("accounts/idem:v/deposit", """{"amount": 1}""", invalid);
            await HostHttp.AssertErrorAsync(http.SendAsync(request), HttpStatusCode.BadRequest, "invalid_argument");
        }

        using (var twice = Request("accounts/idem:v/withdraw", """{"amount": 1}""", "one"))
        {
            twice.Headers.Add("Idempotency-Key", "two");
            await HostHttp.AssertErrorAsync(http.SendAsync(twice), HttpStatusCode.BadRequest, "invalid_argument");
        }

        await HostHttp.AssertErrorAsync(HostHttp.PostAsync(http, "accounts/operations",
            """[{"key": "idem:v", "op": "deposit", "amount": 1, "id": "ok"}, {"key": "idem:v", "op": "deposit", "amount": 1, "id": 7}]"""),
            HttpStatusCode.BadRequest, "invalid_argument");
        await HostHttp.AssertErrorAsync(HostHttp.PostAsync(http, "accounts/operations",
            """[{"key": "idem:v", "op": "deposit", "amount": 1, "id": "not ok"}]"""), HttpStatusCode.BadRequest, "invalid_argument");
        Assert.Equal(0, (await HostHttp.GetJsonAsync(http, "accounts/idem:v", HttpStatusCode.OK)).GetProperty("balance").GetInt64());

        await host.StopAsync();
    }

    private static HttpRequestMessage Request(string path, string body, string? idempotencyKey)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (idempotencyKey is not null)
            request.Headers.TryAddWithoutValidation("Idempotency-Key", idempotencyKey);
        return request;
    }

    private static async Task<(HttpStatusCode Status, string Body)> PostAsync(HttpClient http, string path, string body, string? idempotencyKey)
    {
        using var request = Request(path, body, idempotencyKey);
        using var response = await http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static long Balance(string body) => JsonDocument.Parse(body).RootElement.GetProperty("balance").GetInt64();

    private static JsonElement[] Results(JsonElement response) => response.GetProperty("results").EnumerateArray().ToArray();

    public void Dispose()
    {
        _host?.Dispose();
        _dataDir.Dispose();
    }
}
