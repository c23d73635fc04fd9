using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Akka.WriteBehind.Counters;

namespace Akka.WriteBehind.Host.Http;

/// <summary>
/// <c>/counters/{key}</c>: <c>POST …/increment</c> (202), <c>GET</c> (200), <c>POST …/flush</c> (200). Keys are checked
/// with <see cref="KeyRules"/> before anything is asked.
/// </summary>
public static class CounterEndpoints
{
    /// <summary>Largest increment body read, in bytes.</summary>
    public const int MaxBodyBytes = 4096;

    /// <summary>Maps the counter routes.</summary>
    /// <param name="app">The route builder.</param>
    public static IEndpointRouteBuilder MapCounters(this IEndpointRouteBuilder app)
    {
        app.MapPost("/counters/{key}/increment", IncrementAsync);
        app.MapGet("/counters/{key}", GetAsync);
        app.MapPost("/counters/{key}/flush", FlushAsync);
        return app;
    }

    private static async Task<IResult> IncrementAsync(string key, HttpContext context, CounterGateway gateway, HostSettings settings)
    {
        key = KeyFromRawTarget(context, key);
        if (!KeyRules.TryValidate(key, out var keyError))
            return ErrorMapping.Error(StatusCodes.Status400BadRequest, ErrorMapping.InvalidKey, keyError!);

        var (delta, bodyError) = await ReadDeltaAsync(context, context.RequestAborted).ConfigureAwait(false);
        if (bodyError is not null)
            return ErrorMapping.Error(StatusCodes.Status400BadRequest, ErrorMapping.InvalidArgument, bodyError);

        var (reply, error) = await gateway.AskAsync(new Increment(key, delta), context.RequestAborted).ConfigureAwait(false);
        return error ?? reply switch
        {
            IncrementAccepted accepted => Results.Json(new IncrementResponse(accepted.Key, accepted.Delta, settings.Durability.ToString().ToLowerInvariant()),
                HostJsonContext.Api.IncrementResponse, statusCode: StatusCodes.Status202Accepted),
            _ => Unexpected(reply),
        };
    }

    private static async Task<IResult> GetAsync(string key, HttpContext context, CounterGateway gateway)
    {
        key = KeyFromRawTarget(context, key);
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
        key = KeyFromRawTarget(context, key);
        if (!KeyRules.TryValidate(key, out var keyError))
            return ErrorMapping.Error(StatusCodes.Status400BadRequest, ErrorMapping.InvalidKey, keyError!);

        var (reply, error) = await gateway.AskAsync(new FlushCounter(key), context.RequestAborted).ConfigureAwait(false);
        return error ?? reply switch
        {
            CounterFlushed flushed => Results.Json(new FlushResponse(flushed.Key, flushed.Stored), HostJsonContext.Api.FlushResponse),
            _ => Unexpected(reply),
        };
    }

    /// <summary>
    /// The key exactly as the client escaped it. The server decodes every escape in the path except <c>%2F</c> (so a decoded
    /// <c>/</c> cannot split a segment), which leaves a key containing <c>/</c> (sent as <c>%2F</c>) and a key containing the
    /// text <c>%2F</c> (sent as <c>%252F</c>) alike in the route value. The request target as received tells them apart; it
    /// is used when its segment is the route's segment (same text once <c>/</c> is written <c>%2F</c>), else the route value.
    /// </summary>
    private static string KeyFromRawTarget(HttpContext context, string routeKey)
    {
        var raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (string.IsNullOrEmpty(raw) || raw[0] != '/')
            return routeKey;

        var query = raw.IndexOf('?', StringComparison.Ordinal);
        var segments = (query < 0 ? raw : raw[..query]).Split('/');
        // "", "counters", "<key>"[, "increment" | "flush"]
        if (segments.Length < 3)
            return routeKey;

        var rawKey = Uri.UnescapeDataString(segments[2]);
        static string Slashes(string text) => text.Replace("%2f", "%2F", StringComparison.Ordinal);
        return Slashes(rawKey.Replace("/", "%2F", StringComparison.Ordinal)) == Slashes(routeKey) ? rawKey : routeKey;
    }

    private static IResult Unexpected(ICounterReply? reply) => reply switch
    {
        CounterRejected rejected => ErrorMapping.Rejected(rejected),
        _ => ErrorMapping.Error(StatusCodes.Status500InternalServerError, ErrorMapping.InternalError,
            $"unexpected reply {reply?.GetType().Name ?? "null"}"),
    };

    /// <summary>Reads <c>{"delta": &lt;integer in Int64 range&gt;}</c>; returns an error message for anything else.</summary>
    private static async Task<(long Delta, string? Error)> ReadDeltaAsync(HttpContext context, CancellationToken cancellationToken)
    {
        const string shape = "the body must be a JSON object like {\"delta\": 5} with an integer delta in the 64-bit range";
        var bodyLimit = context.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (bodyLimit is { IsReadOnly: false })
            bodyLimit.MaxRequestBodySize = MaxBodyBytes;

        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(context.Request.Body, default, cancellationToken).ConfigureAwait(false);
        }
        catch (JsonException e)
        {
            return (0, $"the body is not valid JSON ({e.Message}); {shape}");
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (0, $"the body is larger than {MaxBodyBytes} bytes; {shape}");
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                return (0, shape);
            if (!document.RootElement.TryGetProperty("delta", out var delta))
                return (0, $"\"delta\" is missing; {shape}");
            if (delta.ValueKind != JsonValueKind.Number || !delta.TryGetInt64(out var value))
                return (0, $"\"delta\" is {delta.GetRawText()}; {shape}");
            return (value, null);
        }
    }
}
