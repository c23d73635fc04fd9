using Akka.WriteBehind.Batches;
using Akka.WriteBehind.Counters;

namespace Akka.WriteBehind.Host.Http;

/// <summary>
/// The one place where refusals become HTTP responses: every error is <c>{"error": "&lt;code&gt;", "message": "..."}</c> with
/// a snake_case code and the status of its class (400 invalid input, 409 overflow or rejected, 429 saturated, 503
/// unavailable, cancelled or timed out; 404 for an unknown or deleted refresh item).
/// </summary>
public static class ErrorMapping
{
    /// <summary>The key breaks the key rules (400).</summary>
    public const string InvalidKey = "invalid_key";

    /// <summary>The body or another argument is not acceptable (400).</summary>
    public const string InvalidArgument = "invalid_argument";

    /// <summary>The running sum would overflow 64 bits (409).</summary>
    public const string Overflow = "overflow";

    /// <summary>A bounded buffer is full (429).</summary>
    public const string Saturated = "saturated";

    /// <summary>The store failed; the data is kept and retried (503).</summary>
    public const string StoreFailure = "store_failure";

    /// <summary>The node is shutting down (503).</summary>
    public const string ShuttingDown = "shutting_down";

    /// <summary>The operation was refused by its resource (e.g. insufficient funds); nothing was changed (409).</summary>
    public const string OperationRejected = "rejected";

    /// <summary>The operation was not run: its deadline passed, or its caller cancelled it, before its turn came (503).</summary>
    public const string Cancelled = "cancelled";

    /// <summary>No answer within the ask timeout, or a batch passed its max-duration and nothing of it was kept (503).</summary>
    public const string Timeout = "timeout";

    /// <summary>The node cannot serve the request now, e.g. its cluster member is not Up (503).</summary>
    public const string Unavailable = "unavailable";

    /// <summary>No such route, or no such item (404).</summary>
    public const string NotFound = "not_found";

    /// <summary>The route exists for other methods (405).</summary>
    public const string MethodNotAllowed = "method_not_allowed";

    /// <summary>Any other error answered by the HTTP stack itself.</summary>
    public const string BadRequest = "bad_request";

    /// <summary>A bug: an unexpected exception or reply (500).</summary>
    public const string InternalError = "internal_error";

    /// <summary>HTTP status and error code of a library <see cref="ErrorCode"/>.</summary>
    /// <param name="code">The library's code.</param>
    public static (int Status, string Error) Map(ErrorCode code) => code switch
    {
        ErrorCode.InvalidKey => (StatusCodes.Status400BadRequest, InvalidKey),
        ErrorCode.InvalidArgument => (StatusCodes.Status400BadRequest, InvalidArgument),
        ErrorCode.Overflow => (StatusCodes.Status409Conflict, Overflow),
        ErrorCode.Saturated => (StatusCodes.Status429TooManyRequests, Saturated),
        ErrorCode.StoreFailure => (StatusCodes.Status503ServiceUnavailable, StoreFailure),
        ErrorCode.ShuttingDown => (StatusCodes.Status503ServiceUnavailable, ShuttingDown),
        ErrorCode.Rejected => (StatusCodes.Status409Conflict, OperationRejected),
        ErrorCode.Cancelled => (StatusCodes.Status503ServiceUnavailable, Cancelled),
        ErrorCode.Timeout => (StatusCodes.Status503ServiceUnavailable, Timeout),
        ErrorCode.NotFound => (StatusCodes.Status404NotFound, NotFound),
        _ => (StatusCodes.Status500InternalServerError, InternalError),
    };

    /// <summary>The error code of an HTTP status answered without a body by the HTTP stack (404, 405, 413, ...).</summary>
    /// <param name="status">The status code.</param>
    public static string ForStatus(int status) => status switch
    {
        StatusCodes.Status404NotFound => NotFound,
        StatusCodes.Status405MethodNotAllowed => MethodNotAllowed,
        StatusCodes.Status429TooManyRequests => Saturated,
        StatusCodes.Status503ServiceUnavailable => Unavailable,
        >= 500 => InternalError,
        _ => BadRequest,
    };

    /// <summary>The response to a refusal from a counter entity.</summary>
    /// <param name="rejected">The refusal.</param>
    public static IResult Rejected(CounterRejected rejected)
    {
        var (status, error) = Map(rejected.Code);
        return Error(status, error, rejected.Message);
    }

    /// <summary>The response to a batch operation that did not succeed: its rejection, its batch's failure, or why it was not run.</summary>
    /// <param name="failure">The outcome.</param>
    public static IResult Failed(BatchOperationException failure)
    {
        var (status, error) = Map(failure.Code);
        return Error(status, error, failure.Message);
    }

    /// <summary>
    /// The per-item result of a fan-out item that did not succeed (<c>POST /counters/increments</c>,
    /// <c>POST /accounts/operations</c>): its status and error code by the same mapping as single requests, and for 429 which
    /// queue bound refused it.
    /// </summary>
    /// <param name="index">The item's index in the request.</param>
    /// <param name="key">The item's key.</param>
    /// <param name="outcome">The item's outcome (not a success).</param>
    public static FanOutItemResult ItemError(int index, string key, CallGroups.Outcome outcome)
    {
        var (status, error) = Map(outcome.Code ?? ErrorCode.Timeout);
        return outcome switch
        {
            CallGroups.Outcome.Failed failed => new FanOutItemResult(index, key, status, Error: error, Message: failed.Message,
                Saturation: failed.Saturation is { } s ? new SaturationResponse(s.Limit.ToString().ToLowerInvariant(), s.Size, s.Max) : null),
            CallGroups.Outcome.TimedOut timedOut => new FanOutItemResult(index, key, status, Error: error, Message: timedOut.Message),
            _ => new FanOutItemResult(index, key, StatusCodes.Status500InternalServerError, Error: InternalError, Message: $"unexpected outcome {outcome}"),
        };
    }

    /// <summary>The per-item result of a fan-out item refused before it was sent.</summary>
    /// <param name="index">The item's index in the request.</param>
    /// <param name="key">The item's key.</param>
    /// <param name="code">Why.</param>
    /// <param name="message">Why, for people.</param>
    public static FanOutItemResult ItemError(int index, string key, ErrorCode code, string message) =>
        ItemError(index, key, new CallGroups.Outcome.Failed(code, message));

    /// <summary>The response to a refusal from a refresh cache item.</summary>
    /// <param name="rejected">The refusal.</param>
    public static IResult Rejected(Akka.WriteBehind.Refresh.RefreshRejected rejected)
    {
        var (status, error) = Map(rejected.Code);
        return Error(status, error, rejected.Message);
    }

    /// <summary>An error response.</summary>
    /// <param name="status">HTTP status.</param>
    /// <param name="error">snake_case error code.</param>
    /// <param name="message">Why, for people.</param>
    public static IResult Error(int status, string error, string message) =>
        Results.Json(new ErrorResponse(error, message), HostJsonContext.Api.ErrorResponse, statusCode: status);
}
