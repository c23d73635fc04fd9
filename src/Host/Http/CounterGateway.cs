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

    private const string NotStarted = "the counters are not started on this node";

    private readonly IRequiredActor<CounterRegion> _region;
    private readonly ActorSystem _system;

    /// <summary>Creates the gateway.</summary>
    /// <param name="region">The counters' entry point.</param>
    /// <param name="system">The actor system, whose config holds the ask timeout.</param>
    public CounterGateway(IRequiredActor<CounterRegion> region, ActorSystem system)
    {
        _region = region;
        _system = system;
        AskTimeout = RegionAccess.ReadAskTimeout(system);
    }

    /// <summary>Longest wait for an entity's answer.</summary>
    public TimeSpan AskTimeout { get; }

    /// <summary>The counters' entry point once started on this node, or a 503 result when it is not within the ask timeout.</summary>
    /// <param name="cancellationToken">The request's abort token.</param>
    public Task<(IActorRef? Region, IResult? Error)> RegionAsync(CancellationToken cancellationToken) =>
        RegionAccess.GetAsync(_region, AskTimeout, NotStarted, cancellationToken);

    /// <summary>
    /// Asks the counter entity of <paramref name="command"/>'s key.
    /// </summary>
    /// <param name="command">The command.</param>
    /// <param name="cancellationToken">The request's abort token.</param>
    /// <returns>The entity's reply, or an error result when there was none in time.</returns>
    public Task<(ICounterReply? Reply, IResult? Error)> AskAsync(ICounterCommand command, CancellationToken cancellationToken) =>
        RegionAccess.AskAsync<CounterRegion, ICounterReply>(_region, command, AskTimeout, NotStarted, $"counter [{command.Key}]", cancellationToken);

    /// <summary>
    /// The node's counter set once started, for its acknowledged fast path (<see cref="CounterSet.IncrementAsync(string, long, string?)"/>),
    /// or a 503 result when it is not within the ask timeout.
    /// </summary>
    /// <param name="cancellationToken">The request's abort token.</param>
    public async Task<(CounterSet? Counters, IResult? Error)> CountersAsync(CancellationToken cancellationToken)
    {
        var (region, error) = await RegionAsync(cancellationToken).ConfigureAwait(false);
        return region is null ? (null, error) : (CounterSets.Get(_system).Default, null);
    }

    /// <summary>
    /// Waits for the outcome of one acknowledged fast-path increment, at most the ask timeout: <c>null</c> when it has none by
    /// then (its outcome is unknown to the caller). The single-increment endpoint's path.
    /// </summary>
    /// <param name="increment">The task of <see cref="CounterSet.IncrementAsync(string, long, string?)"/>.</param>
    /// <param name="cancellationToken">The request's abort token.</param>
    public async Task<ICounterReply?> OutcomeAsync(Task<ICounterReply> increment, CancellationToken cancellationToken)
    {
        try
        {
            return await increment.WaitAsync(AskTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return null;
        }
    }
}
