using Akka.WriteBehind.Batches;
using Akka.WriteBehind.Samples.Accounts;

namespace Akka.WriteBehind.Host.Http;

/// <summary>
/// <c>/accounts/{key}</c>: <c>POST …/deposit</c> and <c>POST …/withdraw</c> with <c>{"amount": n}</c>, <c>GET</c>; each answers
/// 200 <c>{"key", "balance"}</c> once the operation's batch is saved. A withdrawal beyond the balance is 409 <c>rejected</c>, a
/// deposit that would overflow 409 <c>overflow</c>; keys are checked with <see cref="KeyRules"/> and amounts must be positive
/// integers (400) before anything is run. Deposits and withdrawals take an optional <c>Idempotency-Key</c> header
/// (<see cref="RequestIds"/>; invalid: 400 <c>invalid_argument</c>): a repeat for the same account within the accounts'
/// <c>idempotency.window</c> is not applied again and gets the first answer (200 with the same body); a first attempt that
/// was rejected or failed is not remembered, so its retry runs again.
/// </summary>
public static class AccountEndpoints
{
    private const string AmountShape = "the body must be a JSON object like {\"amount\": 5} with a positive integer amount";

    /// <summary>Maps the account routes.</summary>
    /// <param name="app">The route builder.</param>
    public static IEndpointRouteBuilder MapAccounts(this IEndpointRouteBuilder app)
    {
        app.MapPost("/accounts/{key}/deposit", (string key, HttpContext context, AccountGateway gateway) =>
            ChangeAsync(key, context, gateway, amount => new Deposit(amount)));
        app.MapPost("/accounts/{key}/withdraw", (string key, HttpContext context, AccountGateway gateway) =>
            ChangeAsync(key, context, gateway, amount => new Withdraw(amount)));
        app.MapGet("/accounts/{key}", GetAsync);
        return app;
    }

    private static async Task<IResult> ChangeAsync(string key, HttpContext context, AccountGateway gateway, Func<long, IBatchOperation<AccountBalance>> operation)
    {
        key = RequestInput.KeyFromRawTarget(context, key);
        if (!KeyRules.TryValidate(key, out var keyError))
            return ErrorMapping.Error(StatusCodes.Status400BadRequest, ErrorMapping.InvalidKey, keyError!);
        var (requestId, requestIdError) = RequestInput.IdempotencyKey(context);
        if (requestIdError is not null)
            return ErrorMapping.Error(StatusCodes.Status400BadRequest, ErrorMapping.InvalidArgument, requestIdError);

        var (amount, bodyError) = await RequestInput.ReadInt64Async(context, "amount", AmountShape).ConfigureAwait(false);
        if (bodyError is null && amount <= 0)
            bodyError = $"\"amount\" is {amount}; {AmountShape}";
        if (bodyError is not null)
            return ErrorMapping.Error(StatusCodes.Status400BadRequest, ErrorMapping.InvalidArgument, bodyError);

        return await gateway.RunAsync(key, operation(amount), requestId, context.RequestAborted).ConfigureAwait(false);
    }

    private static Task<IResult> GetAsync(string key, HttpContext context, AccountGateway gateway)
    {
        key = RequestInput.KeyFromRawTarget(context, key);
        return KeyRules.TryValidate(key, out var keyError)
            ? gateway.RunAsync(key, GetBalance.Instance, null, context.RequestAborted)
            : Task.FromResult(ErrorMapping.Error(StatusCodes.Status400BadRequest, ErrorMapping.InvalidKey, keyError!));
    }
}
