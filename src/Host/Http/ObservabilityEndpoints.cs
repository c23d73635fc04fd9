using System.Reflection;
using Akka.Actor;
using Akka.Cluster;
using Akka.WriteBehind.Host.Observability;

namespace Akka.WriteBehind.Host.Http;

/// <summary>
/// <c>GET /stats</c> (JSON for the status page) and the
/// status page itself: <c>GET /</c> and its script and style under <c>/status/</c>, plain files embedded in the Host.
/// <c>/metrics</c> (Prometheus) is mapped by OpenTelemetry in Program.cs.
/// </summary>
public static class ObservabilityEndpoints
{
    private static readonly (string Path, string Resource, string ContentType)[] PageFiles =
    [
        ("/", "StatusPage/index.html", "text/html; charset=utf-8"),
        ("/status/app.js", "StatusPage/app.js", "text/javascript; charset=utf-8"),
        ("/status/style.css", "StatusPage/style.css", "text/css; charset=utf-8"),
    ];

    /// <summary>Maps <c>/stats</c> and the status page.</summary>
    /// <param name="app">The route builder.</param>
    public static IEndpointRouteBuilder MapObservability(this IEndpointRouteBuilder app)
    {
        app.MapGet("/stats", (ActorSystem system, NodeMetrics metrics, RecentErrors errors, StoreDescription store) =>
            Results.Json(Stats(system, metrics, errors, store.Text), HostJsonContext.Api.StatsResponse));

        var assembly = typeof(ObservabilityEndpoints).Assembly;
        foreach (var (path, resource, contentType) in PageFiles)
        {
            var bytes = Read(assembly, resource);
            app.MapGet(path, (HttpContext context) =>
            {
                context.Response.Headers.CacheControl = "no-cache";
                return Results.Bytes(bytes, contentType);
            });
        }

        return app;
    }

    /// <summary>The answer of <c>/stats</c>.</summary>
    /// <param name="system">The node's actor system.</param>
    /// <param name="metrics">The node's metrics.</param>
    /// <param name="errors">The node's recent errors.</param>
    /// <param name="store">The counter store's description.</param>
    public static StatsResponse Stats(ActorSystem system, NodeMetrics metrics, RecentErrors errors, string store)
    {
        var cluster = Cluster.Cluster.Get(system);
        var state = cluster.State;
        var self = cluster.SelfAddress;
        var status = system.WhenTerminated.IsCompleted ? "terminated" : cluster.SelfMember.Status.ToString().ToLowerInvariant();
        var members = state.Members
            .Select(m => new ClusterMemberInfo(m.Address.ToString(), m.Status.ToString().ToLowerInvariant(),
                !state.Unreachable.Contains(m), m.Roles.OrderBy(r => r, StringComparer.Ordinal).ToArray(), m.Address.Equals(self)))
            .ToArray();
        var node = new NodeInfo(self.ToString(), status, Math.Round(metrics.Uptime.TotalSeconds, 1), metrics.StartedAt, store,
            DateTimeOffset.UtcNow);
        return new StatsResponse(node, members, metrics.Summary(), metrics.Instruments, metrics.History, errors.Snapshot(),
            errors.Total);
    }

    private static byte[] Read(Assembly assembly, string resource)
    {
        using var stream = assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"the Host assembly has no embedded {resource}");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}

/// <summary>The counter store as the up line and <c>/stats</c> show it, without credentials.</summary>
/// <param name="Text">E.g. <c>sqlite:/data/writebehind.db</c> or <c>postgres:db1:5432/app</c>.</param>
public sealed record StoreDescription(string Text);
