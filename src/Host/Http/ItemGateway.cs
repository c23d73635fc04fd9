using Akka.Actor;
using Akka.Hosting;
using Akka.WriteBehind.Refresh;

namespace Akka.WriteBehind.Host.Http;

/// <summary>
/// The HTTP API's edge to the refresh cache: asks the <see cref="RefreshRegion"/> actor with the configured timeout
/// (<c>akka.write-behind.host.ask-timeout</c>, node.conf) and turns a missing answer into a typed outcome.
/// </summary>
public sealed class ItemGateway
{
    private readonly IRequiredActor<RefreshRegion> _region;

    /// <summary>Creates the gateway.</summary>
    /// <param name="region">The refresh cache's entry point.</param>
    /// <param name="system">The actor system, whose config holds the ask timeout.</param>
    public ItemGateway(IRequiredActor<RefreshRegion> region, ActorSystem system)
    {
        _region = region;
        AskTimeout = RegionAccess.ReadAskTimeout(system);
    }

    /// <summary>Longest wait for an item's answer.</summary>
    public TimeSpan AskTimeout { get; }

    /// <summary>Asks the item entity of <paramref name="command"/>'s id.</summary>
    /// <param name="command">The command.</param>
    /// <param name="cancellationToken">The request's abort token.</param>
    /// <returns>The entity's reply, or an error result when there was none in time.</returns>
    public Task<(IRefreshReply? Reply, IResult? Error)> AskAsync(IRefreshCommand command, CancellationToken cancellationToken) =>
        RegionAccess.AskAsync<RefreshRegion, IRefreshReply>(_region, command, AskTimeout,
            "the refresh cache is not started on this node", $"item [{command.Key}]", cancellationToken);
}
