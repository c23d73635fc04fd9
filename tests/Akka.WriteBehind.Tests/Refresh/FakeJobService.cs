using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Akka.WriteBehind.Tests.Refresh;

/// <summary>
/// A small job service on 127.0.0.1 (Kestrel, a free port): <c>GET /jobs/{id}</c> answers the job's JSON, or the status code
/// set for it; counts the GETs per job.
/// </summary>
internal sealed class FakeJobService : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, (int Status, string Body)> _jobs = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _gets = new(StringComparer.Ordinal);

    private FakeJobService(WebApplication app) => _app = app;

    public string BaseUrl { get; private set; } = "";

    /// <summary>The URL template of the jobs: <c>http://127.0.0.1:port/jobs/{id}</c>.</summary>
    public string Template => BaseUrl + "/jobs/{id}";

    public static async Task<FakeJobService> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0));
        var app = builder.Build();
        var service = new FakeJobService(app);
        app.MapGet("/jobs/{id}", (string id) =>
        {
            service._gets.AddOrUpdate(id, 1, (_, n) => n + 1);
            if (!service._jobs.TryGetValue(id, out var job))
                return Results.NotFound();
            return job.Status == 200
                ? Results.Text(job.Body, "application/json")
                : Results.Text(job.Body, "text/plain", statusCode: job.Status);
        });
        await app.StartAsync();
        service.BaseUrl = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return service;
    }

    public void Set(string id, string json) => _jobs[id] = (200, json);

    public void Answer(string id, int status, string body = "") => _jobs[id] = (status, body);

    public void Remove(string id) => _jobs.TryRemove(id, out _);

    public int Gets(string id) => _gets.GetValueOrDefault(id);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
