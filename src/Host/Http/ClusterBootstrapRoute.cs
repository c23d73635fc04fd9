using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster;
using Akka.Management.Cluster.Bootstrap.ContactPoint;
using Newtonsoft.Json;

namespace Akka.WriteBehind.Host.Http;

/// <summary>
/// <c>GET /bootstrap/seed-nodes</c> on the management port: the contact point of Akka.Management cluster bootstrap, answered
/// as Akka.Management's own route does (its JSON protocol, Newtonsoft), so nodes of this Host and any Akka.Management node
/// understand each other. Only this route is served on the management port, and only there; it needs no API key (other
/// nodes' bootstrap does not send one) and tells only the members' addresses.
/// </summary>
public static class ClusterBootstrapRoute
{
    /// <summary>The route.</summary>
    public const string Path = "/bootstrap/seed-nodes";

    // Akka.Management's default: how many members a contact point tells
    private const int MaxSeedNodesToExpose = 5;

    /// <summary>Maps the route, answering only on <paramref name="managementPort"/>.</summary>
    /// <param name="app">The route builder.</param>
    /// <param name="managementPort">The management port.</param>
    public static IEndpointRouteBuilder MapClusterBootstrap(this IEndpointRouteBuilder app, int managementPort)
    {
        app.MapGet(Path, (HttpContext context, ActorSystem system) =>
        {
            if (context.Connection.LocalPort != managementPort)
                return Results.StatusCode(StatusCodes.Status404NotFound);

            var cluster = Cluster.Cluster.Get(system);
            var self = cluster.SelfMember;
            var members = ImmutableList<HttpBootstrapJsonProtocol.ClusterMember>.Empty;
            if (self.Status is not (MemberStatus.Down or MemberStatus.Exiting or MemberStatus.Leaving or MemberStatus.Removed))
            {
                var state = cluster.State;
                members = state.Members
                    .Where(m => !state.Unreachable.Contains(m) && m.Status is MemberStatus.Up or MemberStatus.WeaklyUp or MemberStatus.Joining)
                    .Take(MaxSeedNodesToExpose)
                    .Select(m => new HttpBootstrapJsonProtocol.ClusterMember(m.UniqueAddress.Address, m.UniqueAddress.Uid, m.Status, m.Roles))
                    .ToImmutableList();
            }

            var json = JsonConvert.SerializeObject(new HttpBootstrapJsonProtocol.SeedNodes(self.UniqueAddress.Address, members));
            return Results.Text(json, "application/json");
        });
        return app;
    }

    /// <summary>Whether <paramref name="context"/> arrived on the management port.</summary>
    /// <param name="context">The request.</param>
    /// <param name="network">The node's network settings.</param>
    public static bool OnManagementPort(HttpContext context, NetworkSettings network) =>
        network.Discovery != DiscoveryMode.SeedNodes && context.Connection.LocalPort == network.ManagementPort;
}
