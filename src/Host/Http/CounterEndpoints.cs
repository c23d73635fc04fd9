using Akka.WriteBehind.Counters;

namespace Akka.WriteBehind.Host.Http;

/// <summary>
/// <c>/counters/{key}</c>: <c>POST …/increment</c> (202), <c>GET</c> (200), <c>POST …/flush</c> (200); <c>POST /counters/flush</c>
/// (200 once every key of the cluster with pending increments is stored, 503 <c>store_failure</c>/<c>timeout</c>). Keys are checked
/// with <see cref="KeyRules"/> before anything is asked (<see cref="RequestInput"/>). An increment with an
/// <c>Idempotency-Key</c> header is safe to retry: a repeat within the idempotency window is not applied again and gets the
/// first answer.
/// </summary>
public static class CounterEndpoints
{
    /// <summary>Maps the counter routes.</summary>
    /// <param name="app">The route builder.</param>
    public static IEndpointRouteBuilder MapCounters(this IEndpointRouteBuilder app)
    {
        app.MapPost("/counters/{key}/increment", IncrementAsync);
        app.MapGet("/counters/{key}", GetAsync);
        app.MapPost("/counters/{key}/flush", FlushAsync);
        app.MapPost("/counters/flush", FlushAllAsync);
        return app;
    }

    private static async Task<IResult> FlushAllAsync(HttpContext context, CounterGateway gateway)
    {
        var (counters, unavailable) = await gateway.CountersAsync(context.RequestAborted).ConfigureAwait(false);
        if (counters is null)
            return unavailable!;
        // every member flushes its keys; the ask timeout bounds the whole, as it bounds a single key's flush
        return await counters.FlushAllAsync(gateway.AskTimeout).WaitAsync(context.RequestAborted).ConfigureAwait(false) switch
        {
            AllCountersFlushed done => Results.Json(new FlushAllResponse(done.Keys, done.Nodes), HostJsonContext.Api.FlushAllResponse),
            FlushAllFailed failed => ErrorMapping.Rejected(new CounterRejected("", failed.Code, failed.Message)),
            var other => ErrorMapping.Error(StatusCodes.Status500InternalServerError, ErrorMapping.InternalError,
                $"unexpected reply {other.GetType().Name}"),
        };
    }

    private static async Task<IResult> IncrementAsync(string key, HttpContext context, CounterGateway gateway, HostSettings settings)
    {
        key = RequestInput.KeyFromRawTarget(context, key);
        if (!KeyRules.TryValidate(key, out var keyError))
            return ErrorMapping.Error(StatusCodes.Status400BadRequest, ErrorMapping.InvalidKey, keyError!);

        var (requestId, requestIdError) = RequestInput.IdempotencyKey(context);
        if (requestIdError is not null)
            return ErrorMapping.Error(StatusCodes.Status400BadRequest, ErrorMapping.InvalidArgument, requestIdError);

        var (delta, bodyError) = await RequestInput.ReadInt64Async(context, "delta",
            "the body must be a JSON object like {\"delta\": 5} with an integer delta in the 64-bit range").ConfigureAwait(false);
        if (bodyError is not null)
            return ErrorMapping.Error(StatusCodes.Status400BadRequest, ErrorMapping.InvalidArgument, bodyError);

        // the acknowledged fast path: aggregated with the node's other increments of the key, answered once durable
        var (counters, unavailable) = await gateway.CountersAsync(context.RequestAborted).ConfigureAwait(false);
        if (counters is null)
            return unavailable!;
        var reply = await gateway.OutcomeAsync(counters.IncrementAsync(key, delta, requestId), context.RequestAborted).ConfigureAwait(false);
        return reply switch
        {
            null => ErrorMapping.Error(StatusCodes.Status503ServiceUnavailable, ErrorMapping.Timeout,
                $"no answer from counter [{key}] within {gateway.AskTimeout}"),
            IncrementAccepted accepted => Results.Json(new IncrementResponse(accepted.Key, accepted.Delta, settings.Durability.ToString().ToLowerInvariant()),
                HostJsonContext.Api.IncrementResponse, statusCode: StatusCodes.Status202Accepted),
            _ => Unexpected(reply),
        };
    }

    private static async Task<IResult> GetAsync(string key, HttpContext context, CounterGateway gateway)
    {
        key = RequestInput.KeyFromRawTarget(context, key);
        if (!KeyRules.TryValidate(key, out var keyError))
            return ErrorMapping.Error(StatusCodes.Status400BadRequest, ErrorMapping.InvalidKey, keyError!);

        var (reply, error) = await gateway.AskAsync(new GetCounter(key), context.RequestAborted).ConfigureAwait(false);
        return error ?? reply switch
        {
            CounterValue value => Results.Json(new CounterResponse(value.Key, value.Stored, value.Pending, value.Total),
                HostJsonContext.Api.CounterResponse),
            _ => Unexpected(reply),
        };
    }

    private static async Task<IResult> FlushAsync(string key, HttpContext context, CounterGateway gateway)
    {
        key = RequestInput.KeyFromRawTarget(context, key);
        if (!KeyRules.TryValidate(key, out var keyError))
            return ErrorMapping.Error(StatusCodes.Status400BadRequest, ErrorMapping.InvalidKey, keyError!);

        var (reply, error) = await gateway.AskAsync(new FlushCounter(key), context.RequestAborted).ConfigureAwait(false);
        return error ?? reply switch
        {
            CounterFlushed flushed => Results.Json(new FlushResponse(flushed.Key, flushed.Stored), HostJsonContext.Api.FlushResponse),
            _ => Unexpected(reply),
        };
    }

    private static IResult Unexpected(ICounterReply? reply) => reply switch
    {
        CounterRejected rejected => ErrorMapping.Rejected(rejected),
        _ => ErrorMapping.Error(StatusCodes.Status500InternalServerError, ErrorMapping.InternalError,
            $"unexpected reply {reply?.GetType().Name ?? "null"}"),
    };
}
