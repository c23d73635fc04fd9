using System.Text;
using System.Text.Json;
using Akka.WriteBehind.Refresh;
using Microsoft.AspNetCore.Http.Features;

namespace Akka.WriteBehind.Host.Http;

/// <summary>
/// <c>/items/{id}</c>, the refresh cache: <c>PUT</c> (a JSON body; 201 created or 200 replaced), <c>GET</c> (200 with the
/// latest state; 404 unknown or deleted), <c>DELETE</c> (204; 404 unknown). An item whose JSON has <c>"terminal": true</c> is
/// terminal and no longer refreshed. Ids are checked with <see cref="KeyRules"/> before anything is asked. A <c>PUT</c> or
/// <c>DELETE</c> with an <c>Idempotency-Key</c> header is answered once: a repeat within the window gets the first answer.
/// </summary>
public static class ItemEndpoints
{
    /// <summary>Largest item body, in bytes (the same bound as the refresh syncer's).</summary>
    public const int MaxBodyBytes = HttpItemSyncer.MaxBodyBytes;

    /// <summary>The JSON property that marks an item terminal.</summary>
    public const string TerminalProperty = "terminal";

    /// <summary>Maps the item routes.</summary>
    /// <param name="app">The route builder.</param>
    public static IEndpointRouteBuilder MapItems(this IEndpointRouteBuilder app)
    {
        app.MapPut("/items/{id}", PutAsync);
        app.MapGet("/items/{id}", GetAsync);
        app.MapDelete("/items/{id}", DeleteAsync);
        return app;
    }

    private static async Task<IResult> PutAsync(string id, HttpContext context, ItemGateway gateway)
    {
        id = RequestInput.KeyFromRawTarget(context, id);
        if (!KeyRules.TryValidate(id, out var keyError))
            return ErrorMapping.Error(StatusCodes.Status400BadRequest, ErrorMapping.InvalidKey, keyError!);

        var (requestId, requestIdError) = RequestInput.IdempotencyKey(context);
        if (requestIdError is not null)
            return ErrorMapping.Error(StatusCodes.Status400BadRequest, ErrorMapping.InvalidArgument, requestIdError);

        var (body, bodyError) = await ReadBodyAsync(context).ConfigureAwait(false);
        if (bodyError is not null)
            return ErrorMapping.Error(StatusCodes.Status400BadRequest, ErrorMapping.InvalidArgument, bodyError);
        if (!JsonState.TryNormalize(body!, TerminalProperty, out var state, out var terminal, out var jsonError))
            return ErrorMapping.Error(StatusCodes.Status400BadRequest, ErrorMapping.InvalidArgument, $"the body must be a JSON document ({jsonError})");

        var (reply, error) = await gateway.AskAsync(new PutItem(new RefreshItem(id, state, terminal)) { RequestId = requestId }, context.RequestAborted).ConfigureAwait(false);
        return error ?? reply switch
        {
            RefreshItemReply item => Item(item.Item, item.Created ? StatusCodes.Status201Created : StatusCodes.Status200OK),
            _ => Unexpected(reply),
        };
    }

    private static async Task<IResult> GetAsync(string id, HttpContext context, ItemGateway gateway)
    {
        id = RequestInput.KeyFromRawTarget(context, id);
        if (!KeyRules.TryValidate(id, out var keyError))
            return ErrorMapping.Error(StatusCodes.Status400BadRequest, ErrorMapping.InvalidKey, keyError!);

        var (reply, error) = await gateway.AskAsync(new GetItem(id), context.RequestAborted).ConfigureAwait(false);
        return error ?? reply switch
        {
            RefreshItemReply item => Item(item.Item, StatusCodes.Status200OK),
            _ => Unexpected(reply),
        };
    }

    private static async Task<IResult> DeleteAsync(string id, HttpContext context, ItemGateway gateway)
    {
        id = RequestInput.KeyFromRawTarget(context, id);
        if (!KeyRules.TryValidate(id, out var keyError))
            return ErrorMapping.Error(StatusCodes.Status400BadRequest, ErrorMapping.InvalidKey, keyError!);

        var (requestId, requestIdError) = RequestInput.IdempotencyKey(context);
        if (requestIdError is not null)
            return ErrorMapping.Error(StatusCodes.Status400BadRequest, ErrorMapping.InvalidArgument, requestIdError);

        var (reply, error) = await gateway.AskAsync(new DeleteItem(id) { RequestId = requestId }, context.RequestAborted).ConfigureAwait(false);
        return error ?? reply switch
        {
            RefreshItemDeleted => Results.NoContent(),
            _ => Unexpected(reply),
        };
    }

    private static IResult Item(RefreshItem item, int status)
    {
        using var document = JsonDocument.Parse(item.State);
        return Results.Json(new ItemResponse(item.Id, document.RootElement.Clone(), item.Terminal), HostJsonContext.Api.ItemResponse, statusCode: status);
    }

    private static async Task<(string? Body, string? Error)> ReadBodyAsync(HttpContext context)
    {
        var bodyLimit = context.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (bodyLimit is { IsReadOnly: false })
            bodyLimit.MaxRequestBodySize = MaxBodyBytes;
        try
        {
            using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
            var body = await reader.ReadToEndAsync(context.RequestAborted).ConfigureAwait(false);
            return string.IsNullOrWhiteSpace(body) ? (null, "the body must be a JSON document, e.g. {\"status\":\"running\"}") : (body, null);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (null, $"the body is larger than {MaxBodyBytes} bytes");
        }
    }

    private static IResult Unexpected(IRefreshReply? reply) => reply switch
    {
        RefreshRejected rejected => ErrorMapping.Rejected(rejected),
        _ => ErrorMapping.Error(StatusCodes.Status500InternalServerError, ErrorMapping.InternalError,
            $"unexpected reply {reply?.GetType().Name ?? "null"}"),
    };
}
