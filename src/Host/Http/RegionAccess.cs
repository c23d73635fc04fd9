using Akka.Actor;
using Akka.Hosting;

namespace Akka.WriteBehind.Host.Http;

/// <summary>What the HTTP gateways share: the ask timeout from config, waiting for a region, and asking it.</summary>
internal static class RegionAccess
{
    private static readonly TimeSpan DefaultAskTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Reads <see cref="CounterGateway.AskTimeoutPath"/> (default 10 s); a duration that is not positive is refused.</summary>
    public static TimeSpan ReadAskTimeout(ActorSystem system)
    {
        var timeout = system.Settings.Config.GetTimeSpan(CounterGateway.AskTimeoutPath, DefaultAskTimeout);
        if (timeout <= TimeSpan.Zero)
            throw new Akka.Configuration.ConfigurationException($"{CounterGateway.AskTimeoutPath} must be a positive duration.");
        return timeout;
    }

    /// <summary>The region once started on this node, or a 503 result (<paramref name="notStarted"/>) when it is not within <paramref name="timeout"/>.</summary>
    public static async Task<(IActorRef? Region, IResult? Error)> GetAsync<T>(
        IRequiredActor<T> region, TimeSpan timeout, string notStarted, CancellationToken cancellationToken)
    {
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        wait.CancelAfter(timeout);
        try
        {
            return (await region.GetAsync(wait.Token).ConfigureAwait(false), null);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (null, ErrorMapping.Error(StatusCodes.Status503ServiceUnavailable, ErrorMapping.Unavailable,
                $"{notStarted} (waited {timeout})"));
        }
    }

    /// <summary>Asks the region; no region in time or no answer in time becomes a 503 result.</summary>
    public static async Task<(TReply? Reply, IResult? Error)> AskAsync<T, TReply>(
        IRequiredActor<T> region, object command, TimeSpan timeout, string notStarted, string entity, CancellationToken cancellationToken)
        where TReply : class
    {
        var (actor, error) = await GetAsync(region, timeout, notStarted, cancellationToken).ConfigureAwait(false);
        if (actor is null)
            return (null, error);
        try
        {
            return (await actor.Ask<TReply>(command, timeout, cancellationToken).ConfigureAwait(false), null);
        }
        catch (AskTimeoutException)
        {
            return (null, ErrorMapping.Error(StatusCodes.Status503ServiceUnavailable, ErrorMapping.Timeout,
                $"no answer from {entity} within {timeout}"));
        }
    }
}
