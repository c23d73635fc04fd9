using Akka.Actor;
using Akka.Hosting;
using Akka.WriteBehind.Counters;

namespace Akka.WriteBehind.Host.Http;

/// <summary>
/// The HTTP API's edge to the counters: asks the <see cref="CounterRegion"/> actor with the configured timeout
/// (<c>akka.write-behind.host.ask-timeout</c>, node.conf) and turns a missing answer into a typed outcome.
/// </summary>
public sealed class CounterGateway
{
    /// <summary>HOCON path of the ask timeout.</summary>
    public const string AskTimeoutPath = "akka.write-behind.host.ask-timeout";

    private static readonly TimeSpan DefaultAskTimeout = TimeSpan.FromSeconds(10);

    private readonly IRequiredActor<CounterRegion> _region;

    /// <summary>Creates the gateway.</summary>
    /// <param name="region">The counters' entry point.</param>
    /// <param name="system">The actor system, whose config holds the ask timeout.</param>
    public CounterGateway(IRequiredActor<CounterRegion> region, ActorSystem system)
    {
        _region = region;
        AskTimeout = system.Settings.Config.GetTimeSpan(AskTimeoutPath, DefaultAskTimeout);
        if (AskTimeout <= TimeSpan.Zero)
            throw new Akka.Configuration.ConfigurationException($"{AskTimeoutPath} must be a positive duration.");
    }

    /// <summary>Longest wait for an entity's answer.</summary>
    public TimeSpan AskTimeout { get; }

    /// <summary>The counters' entry point once started on this node, or a 503 result when it is not within the ask timeout.</summary>
    /// <param name="cancellationToken">The request's abort token.</param>
    public async Task<(IActorRef? Region, IResult? Error)> RegionAsync(CancellationToken cancellationToken)
    {
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        wait.CancelAfter(AskTimeout);
        try
        {
            return (await _region.GetAsync(wait.Token).ConfigureAwait(false), null);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (null, ErrorMapping.Error(StatusCodes.Status503ServiceUnavailable, ErrorMapping.Unavailable,
                $"the counters are not started on this node (waited {AskTimeout})"));
        }
    }

    /// <summary>
    /// Asks the counter entity of <paramref name="command"/>'s key.
    /// </summary>
    /// <param name="command">The command.</param>
    /// <param name="cancellationToken">The request's abort token.</param>
    /// <returns>The entity's reply, or an error result when there was none in time.</returns>
    public async Task<(ICounterReply? Reply, IResult? Error)> AskAsync(ICounterCommand command, CancellationToken cancellationToken)
    {
        IActorRef region;
        using (var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            wait.CancelAfter(AskTimeout);
            try
            {
                region = await _region.GetAsync(wait.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return (null, ErrorMapping.Error(StatusCodes.Status503ServiceUnavailable, ErrorMapping.Unavailable,
                    $"the counters are not started on this node (waited {AskTimeout})"));
            }
        }

        try
        {
            var reply = await region.Ask<ICounterReply>(command, AskTimeout, cancellationToken).ConfigureAwait(false);
            return (reply, null);
        }
        catch (AskTimeoutException)
        {
            return (null, ErrorMapping.Error(StatusCodes.Status503ServiceUnavailable, ErrorMapping.Timeout,
                $"no answer from counter [{command.Key}] within {AskTimeout}"));
        }
    }
}
