using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Akka.WriteBehind.Tests.Batches;
using Akka.WriteBehind.Tests.Support;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Host;

/// <summary>
/// The accounts endpoints of the real Host process: concurrent withdrawals over HTTP never overdraw, every answer is the
/// saved outcome, errors are typed JSON, and the SQLite row after SIGTERM equals the deposits minus the accepted withdrawals.
/// </summary>
public sealed class AccountsEndToEndSpec(ITestOutputHelper output) : IDisposable
{
    private const long Initial = 1_000;
    private const int Withdrawals = 500;
    private const int Concurrency = 64;

    private readonly TempDirectory _dataDir = new();
    private HostProcess? _host;

    [Fact]
    public async Task Should_never_overdraw_an_account_under_concurrent_withdrawals_over_http()
    {
        Assert.True(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS(), "this spec stops the Host with SIGTERM");
        var (host, _) = await HostProcess.StartAsync(_dataDir.Path);
        _host = host;
        using var http = host.CreateClient(Concurrency);
        const string account = "e2e:account/1";
        var path = $"accounts/{Uri.EscapeDataString(account)}";

        var deposited = await HostHttp.PostJsonAsync(http, $"{path}/deposit", $"{{\"amount\":{Initial}}}", HttpStatusCode.OK);
        Assert.Equal(account, deposited.GetProperty("key").GetString());
        Assert.Equal(Initial, deposited.GetProperty("balance").GetInt64());

        // act: 500 withdrawals of 1..10 all at once (about 2,750 asked of 1,000)
        var random = new Random(20_261_124);
        var amounts = Enumerable.Range(0, Withdrawals).Select(_ => random.Next(1, 11)).ToArray();
        var unexpected = new ConcurrentQueue<string>();
        var accepted = 0L;
        var rejected = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(amounts.Select(async amount =>
        {
            using var response = await HostHttp.PostAsync(http, $"{path}/withdraw", $"{{\"amount\":{amount}}}");
            var body = await response.Content.ReadAsStringAsync();
            if (response.StatusCode == HttpStatusCode.OK && JsonDocument.Parse(body).RootElement.GetProperty("balance").GetInt64() is >= 0 and < Initial)
                Interlocked.Add(ref accepted, amount);
            else if (response.StatusCode == HttpStatusCode.Conflict && body.Contains("\"error\":\"rejected\"", StringComparison.Ordinal))
                Interlocked.Increment(ref rejected);
            else
                unexpected.Enqueue($"{amount}: {(int)response.StatusCode} {body}");
        }));
        output.WriteLine($"{Withdrawals} withdrawals in {clock.Elapsed.TotalSeconds:F1}s: {accepted} accepted, {rejected} rejected");

        Assert.True(unexpected.IsEmpty, $"{unexpected.Count} unexpected answers, e.g.: {string.Join(" | ", unexpected.Take(5))}");
        Assert.True(rejected > 0, "the workload asks for more than the balance");
        Assert.InRange(accepted, 0, Initial);
        var balance = await HostHttp.GetJsonAsync(http, path, HttpStatusCode.OK);
        Assert.Equal(Initial - accepted, balance.GetProperty("balance").GetInt64());

        // typed errors
        await HostHttp.AssertErrorAsync(HostHttp.PostAsync(http, $"{path}/withdraw", "{\"amount\":0}"), HttpStatusCode.BadRequest, "invalid_argument");
        await HostHttp.AssertErrorAsync(HostHttp.PostAsync(http, $"{path}/deposit", "{\"amount\":-5}"), HttpStatusCode.BadRequest, "invalid_argument");
        await HostHttp.AssertErrorAsync(HostHttp.PostAsync(http, $"{path}/deposit", "{\"amount\":1.5}"), HttpStatusCode.BadRequest, "invalid_argument");
        await HostHttp.AssertErrorAsync(HostHttp.PostAsync(http, $"{path}/deposit", "{\"sum\":1}"), HttpStatusCode.BadRequest, "invalid_argument");
        await HostHttp.AssertErrorAsync(HostHttp.PostAsync(http, $"{path}/deposit", ""), HttpStatusCode.BadRequest, "invalid_argument");
        await HostHttp.AssertErrorAsync(HostHttp.PostAsync(http, "accounts/%01/deposit", "{\"amount\":1}"), HttpStatusCode.BadRequest, "invalid_key");
        await HostHttp.AssertErrorAsync(http.GetAsync($"accounts/{new string('k', 257)}"), HttpStatusCode.BadRequest, "invalid_key");
        await HostHttp.AssertErrorAsync(HostHttp.PostAsync(http, $"{path}/withdraw", $"{{\"amount\":{Initial + 1}}}"), HttpStatusCode.Conflict, "rejected");
        await HostHttp.PostJsonAsync(http, "accounts/e2e:max/deposit", $"{{\"amount\":{long.MaxValue}}}", HttpStatusCode.OK);
        await HostHttp.AssertErrorAsync(HostHttp.PostAsync(http, "accounts/e2e:max/deposit", "{\"amount\":1}"), HttpStatusCode.Conflict, "overflow");
        Assert.Equal(0, (await HostHttp.GetJsonAsync(http, "accounts/e2e:nobody", HttpStatusCode.OK)).GetProperty("balance").GetInt64());

        // SIGTERM; the table holds exactly the saved outcome
        await host.StopAsync();
        Assert.True(host.ExitCode == 0, $"exit code {host.ExitCode}\n{host.Tail()}");
        Assert.Equal(Initial - accepted, (await AccountsTable.ReadAsync(_dataDir.DatabaseFile, account)).Balance);
        Assert.Equal(long.MaxValue, (await AccountsTable.ReadAsync(_dataDir.DatabaseFile, "e2e:max")).Balance);
        Assert.Null(await AccountsTable.TryReadAsync(_dataDir.DatabaseFile, "e2e:nobody"));
    }

    public void Dispose()
    {
        _host?.Dispose();
        _dataDir.Dispose();
    }
}
