using Akka.Actor;
using Akka.Cluster;

namespace Akka.WriteBehind.Host.Http;

/// <summary><c>GET /health</c>: 200 when this node's cluster member is Up, else 503.</summary>
public static class HealthEndpoints
{
    /// <summary>Maps the health route.</summary>
    /// <param name="app">The route builder.</param>
    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        app.MapGet("/health", (ActorSystem system) =>
        {
            var cluster = Cluster.Cluster.Get(system);
            var self = cluster.SelfMember;
            var members = cluster.State.Members.Count(m => m.Status == MemberStatus.Up);
            var address = cluster.SelfAddress.ToString();
            if (self.Status == MemberStatus.Up && !system.WhenTerminated.IsCompleted)
                return Results.Json(new HealthResponse("up", address, members), HostJsonContext.Api.HealthResponse);

            var status = system.WhenTerminated.IsCompleted ? "terminated" : self.Status.ToString().ToLowerInvariant();
            return Results.Json(
                new HealthResponse(status, address, members, ErrorMapping.Unavailable, $"this node's cluster member is {status}, not up"),
                HostJsonContext.Api.HealthResponse,
                statusCode: StatusCodes.Status503ServiceUnavailable);
        });
        return app;
    }
}
