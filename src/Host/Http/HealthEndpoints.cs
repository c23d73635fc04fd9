using Akka.Actor;
using Akka.Cluster;
using Akka.WriteBehind.Hosting;
using Akka.WriteBehind.Host.Observability;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Akka.WriteBehind.Host.Http;

/// <summary>
/// <c>GET /health</c> (liveness: the checks tagged <see cref="LiveTag"/>, Akka.Hosting's actor-system liveness) and
/// <c>GET /ready</c> (readiness: the checks tagged <see cref="ReadyTag"/>, Akka.Hosting's cluster readiness and the library's
/// counter store check), both ASP.NET Core health checks; 200 when every check is healthy, else 503 with the JSON error body.
/// </summary>
public static class HealthEndpoints
{
    /// <summary>Tag of the liveness checks.</summary>
    public const string LiveTag = "live";

    /// <summary>Tag of the readiness checks.</summary>
    public const string ReadyTag = "ready";

    /// <summary>Maps the health routes.</summary>
    /// <param name="app">The route builder.</param>
    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        app.MapHealthChecks("/health", new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains(LiveTag),
            ResponseWriter = (context, report) => Write(context, report, (address, members) =>
                Results.Json(new HealthResponse("up", address, members), HostJsonContext.Api.HealthResponse)),
        });
        app.MapHealthChecks("/ready", new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains(ReadyTag),
            ResponseWriter = (context, report) => Write(context, report, (address, _) =>
            {
                var store = report.Entries.TryGetValue(WriteBehindHealthCheckExtensions.CounterStoreCheckName, out var entry) ? entry.Data : null;
                return Results.Json(new ReadyResponse("ready", address,
                        store?.GetValueOrDefault(CounterStoreHealthCheck.StoreDataKey) as string ?? "",
                        store?.GetValueOrDefault(CounterStoreHealthCheck.LatencyDataKey) as double? ?? 0),
                    HostJsonContext.Api.ReadyResponse);
            }),
        });
        return app;
    }

    private static Task Write(HttpContext context, HealthReport report, Func<string, int, IResult> healthy)
    {
        var system = context.RequestServices.GetRequiredService<ActorSystem>();
        var cluster = Cluster.Cluster.Get(system);
        if (report.Status == HealthStatus.Healthy)
        {
            var members = cluster.State.Members.Count(m => m.Status == MemberStatus.Up);
            return healthy(cluster.SelfAddress.ToString(), members).ExecuteAsync(context);
        }

        var why = string.Join("; ", report.Entries.Where(e => e.Value.Status != HealthStatus.Healthy)
            .Select(e => $"{e.Key}: {e.Value.Description ?? e.Value.Exception?.Message ?? e.Value.Status.ToString()}"));
        return ErrorMapping.Error(StatusCodes.Status503ServiceUnavailable, ErrorMapping.Unavailable, why).ExecuteAsync(context);
    }
}
