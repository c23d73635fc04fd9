using System.Buffers;
using System.Text.Json;
using Akka.Actor;
using Akka.WriteBehind.CallGroups;
using Akka.WriteBehind.Counters;
using Akka.WriteBehind.Queues;
using Akka.WriteBehind.Samples.Accounts;

namespace Akka.WriteBehind.Host.Http;

/// <summary>
/// The fan-out routes, each run as one call group (<see cref="CallGroup{TId}"/>, the item's index as its id):
/// <list type="bullet">
/// <item><c>POST /counters/increments</c> with <c>[{"key": "a", "delta": 5}, ...]</c>; an item's optional <c>"id"</c> makes it safe to
/// retry: a repeat of the id for the same key within the idempotency window is not applied again and answers as the first did.</item>
/// <item><c>POST /accounts/operations</c> with <c>[{"key": "acct-1", "op": "deposit", "amount": 5}, ...]</c> (<c>op</c> is
/// <c>deposit</c> or <c>withdraw</c>; an optional string <c>id</c> per item is its request id, as the <c>Idempotency-Key</c>
/// header of a single request: a repeat for the same key within the window gets the first answer and is not applied again).</item>
/// </list>
/// A request holds 1 to <see cref="MaxItems"/> items. A body of another shape (not an array, an item not an object, a field
/// missing or of the wrong type, an unknown op) is refused whole with 400 and nothing is run. Otherwise the answer is 200
/// <c>{"results": [...]}</c> with one <see cref="FanOutItemResult"/> per item, in the request's order, each with the status a
/// single request would have had (202/200, or 400 invalid key or amount — such an item is not sent —, 409, 429 with the
/// queue bound, 503). Items run concurrently; items for the same counter key run in the request's order.
/// </summary>
public static class FanOutEndpoints
{
    /// <summary>Most items in one fan-out request: 1,000.</summary>
    public const int MaxItems = 1000;

    private const string IncrementsShape =
        "the body must be a JSON array of 1 to 1000 objects like {\"key\": \"a\", \"delta\": 5} with an integer delta in the 64-bit range " +
        "and, to make the item safe to retry, an optional string \"id\" (1 to 128 visible ASCII characters)";

    private const string OperationsShape =
        "the body must be a JSON array of 1 to 1000 objects like {\"key\": \"acct-1\", \"op\": \"deposit\", \"amount\": 5} " +
        "with op deposit or withdraw, an integer amount and an optional string id (its request id)";

    /// <summary>Maps the fan-out routes.</summary>
    /// <param name="app">The route builder.</param>
    public static IEndpointRouteBuilder MapFanOut(this IEndpointRouteBuilder app)
    {
        app.MapPost("/counters/increments", IncrementsAsync);
        app.MapPost("/accounts/operations", OperationsAsync);
        return app;
    }

    private static async Task<IResult> IncrementsAsync(HttpContext context, CounterGateway gateway, HostSettings settings)
    {
        var (body, length, bodyError) = await RequestInput.ReadFanOutBodyAsync(context, IncrementsShape).ConfigureAwait(false);
        if (body is null)
            return ErrorMapping.Error(StatusCodes.Status400BadRequest, ErrorMapping.InvalidArgument, bodyError!);
        var items = new List<IncrementItem>();
        string? error;
        try
        {
            error = IncrementItemsReader.TryRead(body.AsSpan(0, length), MaxItems, IncrementsShape, items);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(body);
        }

        if (error is not null)
            return ErrorMapping.Error(StatusCodes.Status400BadRequest, ErrorMapping.InvalidArgument, error);

        // the acknowledged fast path: no actor message per item; items of one key are applied in the request's order
        var (counters, unavailable) = await gateway.CountersAsync(context.RequestAborted).ConfigureAwait(false);
        if (counters is null)
            return unavailable!;

        var durability = settings.Durability.ToString().ToLowerInvariant();
        var results = new FanOutItemResult?[items.Count];
        var sent = new List<int>(items.Count);
        var increments = new List<Increment>(items.Count);
        for (var i = 0; i < items.Count; i++)
        {
            if (KeyRules.TryValidate(items[i].Key, out var invalid))
            {
                sent.Add(i);
                increments.Add(new Increment(items[i].Key, items[i].Delta) { RequestId = items[i].Id });
            }
            else
                results[i] = ErrorMapping.ItemError(i, items[i].Key, ErrorCode.InvalidKey, invalid!);
        }

        // one task for the request's increments; one without an outcome within the ask timeout is null (unknown)
        var replies = await counters.IncrementAsync(increments, gateway.AskTimeout, context.RequestAborted).ConfigureAwait(false);
        for (var n = 0; n < sent.Count; n++)
        {
            var i = sent[n];
            results[i] = replies[n] switch
            {
                IncrementAccepted accepted => new FanOutItemResult(i, accepted.Key, StatusCodes.Status202Accepted, Delta: accepted.Delta, Durability: durability),
                CounterRejected rejected => ErrorMapping.ItemError(i, items[i].Key,
                    new Outcome.Failed(rejected.Code, rejected.Message) { Saturation = rejected.Saturation }),
                _ => ErrorMapping.ItemError(i, items[i].Key, new Outcome.TimedOut($"no answer from counter [{items[i].Key}] within {gateway.AskTimeout}")),
            };
        }

        return Results.Json(new FanOutResponse(results!), HostJsonContext.Api.FanOutResponse);
    }

    private static async Task<IResult> OperationsAsync(HttpContext context, AccountGateway gateway, ActorSystem system)
    {
        var (document, error) = await RequestInput.ReadArrayAsync(context, MaxItems, OperationsShape).ConfigureAwait(false);
        if (document is null)
            return ErrorMapping.Error(StatusCodes.Status400BadRequest, ErrorMapping.InvalidArgument, error!);

        using (document)
        {
            var items = new List<(string Key, string Op, long Amount, string? Id)>();
            var index = 0;
            foreach (var item in document.RootElement.EnumerateArray())
            {
                if (StringField(item, "key", index, OperationsShape, out var key) is { } keyError)
                    return keyError;
                if (StringField(item, "op", index, OperationsShape, out var op) is { } opError)
                    return opError;
                if (op is not ("deposit" or "withdraw"))
                    return ErrorMapping.Error(StatusCodes.Status400BadRequest, ErrorMapping.InvalidArgument,
                        $"item {index}: \"op\" is \"{op}\"; {OperationsShape}");
                if (Int64Field(item, "amount", index, OperationsShape, out var amount) is { } amountError)
                    return amountError;
                if (RequestIdField(item, index, out var id) is { } idError)
                    return idError;
                items.Add((key, op, amount, id));
                index++;
            }

            var (processor, unavailable) = await gateway.ProcessorAsync(context.RequestAborted).ConfigureAwait(false);
            if (processor is null)
                return unavailable!;

            var results = new FanOutItemResult?[items.Count];
            var group = CallGroup<int>.Create();
            for (var i = 0; i < items.Count; i++)
            {
                var (key, op, amount, id) = items[i];
                if (!KeyRules.TryValidate(key, out var invalid))
                    results[i] = ErrorMapping.ItemError(i, key, ErrorCode.InvalidKey, invalid!);
                else if (amount <= 0)
                    results[i] = ErrorMapping.ItemError(i, key, ErrorCode.InvalidArgument, $"\"amount\" is {amount}; it must be a positive integer");
                else
                    group = group.AddBatch(i, processor, key, op == "deposit" ? new Deposit(amount) : new Withdraw(amount), id);
            }

            // each operation may wait ask-timeout for its turn, then its batch's save: the processor's own answer bound
            var timeout = gateway.AskTimeout + processor.Settings.MaxDuration + processor.Settings.ReplyTimeoutMargin;
            var outcomes = await group.RunAsync(system, timeout, context.RequestAborted).ConfigureAwait(false);
            foreach (var (i, outcome) in outcomes)
            {
                results[i] = outcome is Outcome.Succeeded { Result: AccountBalance balance }
                    ? new FanOutItemResult(i, items[i].Key, StatusCodes.Status200OK, Balance: balance.Balance)
                    : ErrorMapping.ItemError(i, items[i].Key, outcome);
            }

            return Results.Json(new FanOutResponse(results!), HostJsonContext.Api.FanOutResponse);
        }
    }

    /// <summary>The item's optional request id: absent or null is none; anything else must be a valid <see cref="RequestIds"/> string.</summary>
    private static IResult? RequestIdField(JsonElement item, int index, out string? id)
    {
        id = null;
        if (!item.TryGetProperty("id", out var element) || element.ValueKind == JsonValueKind.Null)
            return null;
        string? error;
        if (element.ValueKind != JsonValueKind.String)
            error = $"\"id\" is {element.GetRawText()}, not a string";
        else if (RequestIds.TryValidate(element.GetString(), out error))
        {
            id = element.GetString();
            return null;
        }

        return ErrorMapping.Error(StatusCodes.Status400BadRequest, ErrorMapping.InvalidArgument, $"item {index}: {error}; {OperationsShape}");
    }

    private static IResult? StringField(JsonElement item, string name, int index, string shape, out string value)
    {
        value = "";
        if (!item.TryGetProperty(name, out var element))
            return ErrorMapping.Error(StatusCodes.Status400BadRequest, ErrorMapping.InvalidArgument, $"item {index}: \"{name}\" is missing; {shape}");
        if (element.ValueKind != JsonValueKind.String)
            return ErrorMapping.Error(StatusCodes.Status400BadRequest, ErrorMapping.InvalidArgument,
                $"item {index}: \"{name}\" is {element.GetRawText()}, not a string; {shape}");
        value = element.GetString()!;
        return null;
    }

    private static IResult? Int64Field(JsonElement item, string name, int index, string shape, out long value)
    {
        value = 0;
        if (!item.TryGetProperty(name, out var element))
            return ErrorMapping.Error(StatusCodes.Status400BadRequest, ErrorMapping.InvalidArgument, $"item {index}: \"{name}\" is missing; {shape}");
        if (element.ValueKind != JsonValueKind.Number || !element.TryGetInt64(out value))
            return ErrorMapping.Error(StatusCodes.Status400BadRequest, ErrorMapping.InvalidArgument,
                $"item {index}: \"{name}\" is {element.GetRawText()}; {shape}");
        return null;
    }
}
