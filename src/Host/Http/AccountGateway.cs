using Akka.Actor;
using Akka.Hosting;
using Akka.WriteBehind.Batches;
using Akka.WriteBehind.Hosting;
using Akka.WriteBehind.Samples.Accounts;

namespace Akka.WriteBehind.Host.Http;

/// <summary>
/// The HTTP API's edge to the accounts: runs an operation through the accounts' <see cref="BatchProcessor{TResource}"/>, with
/// the configured ask timeout (<c>akka.write-behind.host.ask-timeout</c>, node.conf) as the deadline for it to start
/// running, and turns every outcome into a response.
/// </summary>
public sealed class AccountGateway
{
    private readonly IRequiredActor<BatchRegion<Account>> _region;
    private readonly ActorSystem _system;

    /// <summary>Creates the gateway.</summary>
    /// <param name="region">The accounts' shard region, registered once the resource type is started.</param>
    /// <param name="system">The actor system, whose config holds the ask timeout.</param>
    /// <param name="counters">The counters' gateway, whose ask timeout is the same setting.</param>
    public AccountGateway(IRequiredActor<BatchRegion<Account>> region, ActorSystem system, CounterGateway counters)
    {
        _region = region;
        _system = system;
        AskTimeout = counters.AskTimeout;
    }

    /// <summary>Longest an operation waits for its turn.</summary>
    public TimeSpan AskTimeout { get; }

    /// <summary>The accounts' processor once started on this node, or a 503 result when it is not within the ask timeout.</summary>
    /// <param name="cancellationToken">The request's abort token.</param>
    public async Task<(BatchProcessor<Account>? Processor, IResult? Error)> ProcessorAsync(CancellationToken cancellationToken)
    {
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        wait.CancelAfter(AskTimeout);
        try
        {
            return (await _region.GetProcessorAsync(_system, wait.Token).ConfigureAwait(false), null);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (null, ErrorMapping.Error(StatusCodes.Status503ServiceUnavailable, ErrorMapping.Unavailable,
                $"the accounts are not started on this node (waited {AskTimeout})"));
        }
    }

    /// <summary>Runs <paramref name="operation"/> on the account <paramref name="key"/>.</summary>
    /// <param name="key">A valid key.</param>
    /// <param name="operation">The operation.</param>
    /// <param name="requestId">A valid request id (the <c>Idempotency-Key</c> header), or <c>null</c>.</param>
    /// <param name="cancellationToken">The request's abort token: cancels the operation if it has not run yet.</param>
    /// <returns>200 with the balance, or the error.</returns>
    public async Task<IResult> RunAsync(string key, IBatchOperation<AccountBalance> operation, string? requestId, CancellationToken cancellationToken)
    {
        BatchProcessor<Account> processor;
        using (var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            wait.CancelAfter(AskTimeout);
            try
            {
                processor = await _region.GetProcessorAsync(_system, wait.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return ErrorMapping.Error(StatusCodes.Status503ServiceUnavailable, ErrorMapping.Unavailable,
                    $"the accounts are not started on this node (waited {AskTimeout})");
            }
        }

        try
        {
            var balance = await processor.RunAsync(key, operation, requestId, AskTimeout, cancellationToken).ConfigureAwait(false);
            return Results.Json(new AccountResponse(key, balance.Balance), HostJsonContext.Api.AccountResponse);
        }
        catch (BatchOperationException failure)
        {
            return ErrorMapping.Failed(failure);
        }
    }
}
