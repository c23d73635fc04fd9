using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Akka.WriteBehind.Host.Http;

/// <summary>
/// <c>202</c> answer to <c>POST /counters/{key}/increment</c>: with durability <c>journal</c> the increment is in the journal
/// (it survives a crash of the node); with <c>memory</c> the entity holds it in memory.
/// </summary>
/// <param name="Key">The counter's key.</param>
/// <param name="Delta">The accepted delta.</param>
/// <param name="Durability"><c>journal</c> or <c>memory</c>: how the increment is held now.</param>
public sealed record IncrementResponse(string Key, long Delta, string Durability);

/// <summary><c>200</c> answer to <c>GET /counters/{key}</c>.</summary>
/// <param name="Key">The counter's key.</param>
/// <param name="Stored">The value in the store as of the last confirmed flush.</param>
/// <param name="Pending">Accepted increments not yet stored.</param>
/// <param name="Total">Stored + pending (read-your-writes).</param>
public sealed record CounterResponse(string Key, long Stored, long Pending, long Total);

/// <summary><c>200</c> answer to <c>POST /counters/{key}/flush</c>: everything accepted before it is stored.</summary>
/// <param name="Key">The counter's key.</param>
/// <param name="Stored">The stored value after the flush.</param>
public sealed record FlushResponse(string Key, long Stored);

/// <summary><c>200</c> answer to <c>POST /counters/flush</c>: every increment accepted before it, on every member, is stored.</summary>
/// <param name="Keys">Keys that held pending increments and were flushed, over all members.</param>
/// <param name="Nodes">Members that flushed their keys.</param>
public sealed record FlushAllResponse(long Keys, int Nodes);

/// <summary><c>200</c> answer to <c>POST /accounts/{key}/deposit</c>, <c>POST /accounts/{key}/withdraw</c> and <c>GET /accounts/{key}</c>:
/// the balance after the operation, saved.</summary>
/// <param name="Key">The account's key.</param>
/// <param name="Balance">The balance.</param>
public sealed record AccountResponse(string Key, long Balance);

/// <summary>
/// <c>200</c> answer to <c>GET /health</c>: the liveness checks pass (the actor system runs). When they fail the answer is
/// <c>503</c> with the error body.
/// </summary>
/// <param name="Status">Always <c>up</c>.</param>
/// <param name="Address">This node's Akka address.</param>
/// <param name="Members">Cluster members this node sees as Up.</param>
public sealed record HealthResponse(string Status, string Address, int Members);

/// <summary>
/// One item's result in a fan-out answer (<c>POST /counters/increments</c>, <c>POST /accounts/operations</c>): the item's index
/// in the request, its key, and the status a single request would have had — with the single request's fields on success
/// (<c>delta</c> and <c>durability</c>, or <c>balance</c>), or its <c>error</c> and <c>message</c> (and <c>saturation</c> for 429).
/// Fields that do not apply are left out.
/// </summary>
/// <param name="Index">The item's index in the request array (0-based): the item's id.</param>
/// <param name="Key">The item's key.</param>
/// <param name="Status">The item's HTTP status: 202 (increment accepted) or 200 (account operation saved), else 400/409/429/503.</param>
/// <param name="Delta">Counters, 202: the accepted delta.</param>
/// <param name="Durability">Counters, 202: <c>journal</c> or <c>memory</c>.</param>
/// <param name="Balance">Accounts, 200: the balance after the operation, saved.</param>
/// <param name="Error">The error code (<see cref="ErrorMapping"/>), when not a success.</param>
/// <param name="Message">Why, for people, when not a success.</param>
/// <param name="Saturation">429 from a bounded queue: which bound and how full.</param>
public sealed record FanOutItemResult(
    int Index,
    string Key,
    int Status,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? Delta = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Durability = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? Balance = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Error = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Message = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] SaturationResponse? Saturation = null);

/// <summary>Which queue bound refused an item (429).</summary>
/// <param name="Limit"><c>width</c> (operations queued for the key), <c>depth</c> (keys with queued operations on the node) or <c>total</c>.</param>
/// <param name="Size">How full that bound is.</param>
/// <param name="Max">The bound.</param>
public sealed record SaturationResponse(string Limit, int Size, int Max);

/// <summary><c>200</c> answer to a fan-out request: one result per item, in the request's order.</summary>
/// <param name="Results">The items' results.</param>
public sealed record FanOutResponse(IReadOnlyList<FanOutItemResult> Results);
/// <summary><c>200</c>/<c>201</c> answer to <c>PUT /items/{id}</c> and <c>200</c> answer to <c>GET /items/{id}</c>: the item as stored.</summary>
/// <param name="Id">The item's id.</param>
/// <param name="State">The item's state, the JSON document last PUT or fetched from the refresh URL.</param>
/// <param name="Terminal">Whether the state is terminal (<c>"terminal": true</c> in it): the item is no longer refreshed.</param>
public sealed record ItemResponse(string Id, JsonElement State, bool Terminal);

/// <summary>Every error: <c>{"error": "&lt;snake_case code&gt;", "message": "..."}</c>.</summary>
/// <param name="Error">The code (<see cref="ErrorMapping"/>).</param>
/// <param name="Message">Why, for people.</param>
public sealed record ErrorResponse(string Error, string Message);

/// <summary>
/// System.Text.Json metadata of the HTTP contracts: camelCase names, and only the characters JSON requires escaped (so error
/// messages read as written; responses are <c>application/json</c>, never embedded in HTML).
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(IncrementResponse))]
[JsonSerializable(typeof(CounterResponse))]
[JsonSerializable(typeof(FlushResponse))]
[JsonSerializable(typeof(FlushAllResponse))]
[JsonSerializable(typeof(AccountResponse))]
[JsonSerializable(typeof(HealthResponse))]
[JsonSerializable(typeof(ErrorResponse))]
[JsonSerializable(typeof(FanOutResponse))]
[JsonSerializable(typeof(Observability.ReadyResponse))]
[JsonSerializable(typeof(Observability.StatsResponse))]
[JsonSerializable(typeof(ItemResponse))]
public sealed partial class HostJsonContext : JsonSerializerContext
{
    /// <summary>The context every response is written with.</summary>
    public static HostJsonContext Api { get; } = new(new JsonSerializerOptions(JsonSerializerDefaults.Web)
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new FanOutItemResultConverter() },
    });
}
