using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;

namespace Akka.WriteBehind.Host.Http;

/// <summary>What every resource route reads from a request: its key, as the client escaped it, and a small JSON body.</summary>
public static class RequestInput
{
    /// <summary>Largest request body read, in bytes.</summary>
    public const int MaxBodyBytes = 4096;

    /// <summary>
    /// The key (second path segment, <c>/&lt;family&gt;/{key}/…</c>) exactly as the client escaped it. The server decodes every
    /// escape in the path except <c>%2F</c> (so a decoded <c>/</c> cannot split a segment), which leaves a key containing
    /// <c>/</c> (sent as <c>%2F</c>) and a key containing the text <c>%2F</c> (sent as <c>%252F</c>) alike in the route value.
    /// The request target as received tells them apart; it is used when its segment is the route's segment (same text once
    /// <c>/</c> is written <c>%2F</c>), else the route value.
    /// </summary>
    /// <param name="context">The request.</param>
    /// <param name="routeKey">The route value of <c>{key}</c>.</param>
    public static string KeyFromRawTarget(HttpContext context, string routeKey)
    {
        var raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (string.IsNullOrEmpty(raw) || raw[0] != '/')
            return routeKey;

        var query = raw.IndexOf('?', StringComparison.Ordinal);
        var segments = (query < 0 ? raw : raw[..query]).Split('/');
        // "", "<family>", "<key>"[, "<action>"]
        if (segments.Length < 3)
            return routeKey;

        var rawKey = Uri.UnescapeDataString(segments[2]);
        static string Slashes(string text) => text.Replace("%2f", "%2F", StringComparison.Ordinal);
        return Slashes(rawKey.Replace("/", "%2F", StringComparison.Ordinal)) == Slashes(routeKey) ? rawKey : routeKey;
    }

    /// <summary>The request header that makes a state-changing request safe to retry: <c>Idempotency-Key</c>.</summary>
    public const string IdempotencyKeyHeader = "Idempotency-Key";

    /// <summary>
    /// The request's <c>Idempotency-Key</c> header: <c>null</c> without one, otherwise the key when it follows
    /// <see cref="RequestIds"/>, or an error message (the caller answers 400 <c>invalid_argument</c>).
    /// </summary>
    /// <param name="context">The request.</param>
    public static (string? Key, string? Error) IdempotencyKey(HttpContext context)
    {
        var values = context.Request.Headers[IdempotencyKeyHeader];
        if (values.Count == 0)
            return (null, null);
        if (values.Count > 1)
            return (null, $"the {IdempotencyKeyHeader} header is given {values.Count} times; give it once");
        return RequestIds.TryValidate(values[0], out var error)
            ? (values[0], null)
            : (null, $"the {IdempotencyKeyHeader} header is invalid: {error}");
    }

    /// <summary>Largest body of a fan-out request (<c>POST /counters/increments</c>, <c>POST /accounts/operations</c>), in bytes: 1 MiB.</summary>
    public const int MaxFanOutBodyBytes = 1 << 20;

    /// <summary>
    /// Reads a fan-out body whole, at most <see cref="MaxFanOutBodyBytes"/>, into a buffer rented from
    /// <see cref="ArrayPool{T}.Shared"/> (the caller returns it); or an error message ending with <paramref name="shape"/>.
    /// </summary>
    /// <param name="context">The request.</param>
    /// <param name="shape">What the body must look like, for the error message.</param>
    public static Task<(byte[]? Buffer, int Length, string? Error)> ReadFanOutBodyAsync(HttpContext context, string shape) =>
        ReadBodyAsync(context, MaxFanOutBodyBytes, shape);

    /// <summary>
    /// Reads a body whole, at most <paramref name="maxBytes"/>, into a buffer rented from <see cref="ArrayPool{T}.Shared"/>
    /// (the caller returns it); or an error message ending with <paramref name="shape"/>.
    /// </summary>
    private static async Task<(byte[]? Buffer, int Length, string? Error)> ReadBodyAsync(HttpContext context, int maxBytes, string shape)
    {
        var bodyLimit = context.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (bodyLimit is { IsReadOnly: false })
            bodyLimit.MaxRequestBodySize = maxBytes;

        var body = context.Request.BodyReader;
        try
        {
            while (true)
            {
                var read = await body.ReadAsync(context.RequestAborted).ConfigureAwait(false);
                var buffer = read.Buffer;
                if (read.IsCompleted)
                {
                    var length = (int)buffer.Length;
                    var bytes = ArrayPool<byte>.Shared.Rent(Math.Max(1, length));
                    buffer.CopyTo(bytes);
                    body.AdvanceTo(buffer.End);
                    return (bytes, length, null);
                }

                body.AdvanceTo(buffer.Start, buffer.End); // nothing taken yet: wait for the rest
            }
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (null, 0, $"the body is larger than {maxBytes} bytes; {shape}");
        }
    }

    /// <summary>
    /// Reads a fan-out body: a JSON array of 1 to <paramref name="maxItems"/> objects. Returns the parsed document (the caller
    /// disposes it) or an error message ending with <paramref name="shape"/>.
    /// </summary>
    /// <param name="context">The request.</param>
    /// <param name="maxItems">Most items.</param>
    /// <param name="shape">What the body must look like, for the error message.</param>
    public static async Task<(JsonDocument? Document, string? Error)> ReadArrayAsync(HttpContext context, int maxItems, string shape)
    {
        var bodyLimit = context.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (bodyLimit is { IsReadOnly: false })
            bodyLimit.MaxRequestBodySize = MaxFanOutBodyBytes;

        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(context.Request.Body, default, context.RequestAborted).ConfigureAwait(false);
        }
        catch (JsonException e)
        {
            return (null, $"the body is not valid JSON ({e.Message}); {shape}");
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (null, $"the body is larger than {MaxFanOutBodyBytes} bytes; {shape}");
        }

        var root = document.RootElement;
        string? error = null;
        if (root.ValueKind != JsonValueKind.Array)
            error = shape;
        else if (root.GetArrayLength() is var count && (count == 0 || count > maxItems))
            error = $"the array holds {count} items; 1 to {maxItems} are allowed; {shape}";
        else if (root.EnumerateArray().Select((item, index) => (item, index)).FirstOrDefault(e => e.item.ValueKind != JsonValueKind.Object) is { item.ValueKind: not JsonValueKind.Undefined } bad)
            error = $"item {bad.index} is not a JSON object; {shape}";
        if (error is null)
            return (document, null);
        document.Dispose();
        return (null, error);
    }

    /// <summary>
    /// Reads a JSON object body with the integer property <paramref name="property"/> in the 64-bit range
    /// (<see cref="Int64PropertyReader"/>), at most <see cref="MaxBodyBytes"/>; returns an error message (ending with
    /// <paramref name="shape"/>) for anything else.
    /// </summary>
    /// <param name="context">The request.</param>
    /// <param name="property">The property, e.g. <c>delta</c>.</param>
    /// <param name="shape">What the body must look like, for the error message.</param>
    public static async Task<(long Value, string? Error)> ReadInt64Async(HttpContext context, string property, string shape)
    {
        var (body, length, bodyError) = await ReadBodyAsync(context, MaxBodyBytes, shape).ConfigureAwait(false);
        if (body is null)
            return (0, bodyError);
        try
        {
            var error = Int64PropertyReader.TryRead(body.AsSpan(0, length), property, shape, out var value);
            return (value, error);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(body);
        }
    }
}
