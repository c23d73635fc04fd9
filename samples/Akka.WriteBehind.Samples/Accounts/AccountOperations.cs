using Akka.WriteBehind.Batches;

namespace Akka.WriteBehind.Samples.Accounts;

/// <summary>
/// The operation handler of <see cref="Account"/>s: <see cref="Deposit"/>, <see cref="Withdraw"/> and <see cref="GetBalance"/>,
/// each answering the <see cref="AccountBalance"/> after it. Checked arithmetic: a balance never wraps and never goes below zero.
/// </summary>
public sealed class AccountOperations : OperationHandler<Account>
{
    /// <summary>Name under which the Host and the samples run accounts (<c>akka.write-behind.batches.types.accounts</c>).</summary>
    public const string TypeName = "accounts";

    /// <summary>The handler (stateless).</summary>
    public static readonly AccountOperations Instance = new();

    /// <inheritdoc />
    public override OperationOutcome<Account> Apply(string key, Account account, IBatchOperation operation) => operation switch
    {
        Deposit { Amount: <= 0 } deposit => Reject($"amount must be a positive integer, not {deposit.Amount}", ErrorCode.InvalidArgument),
        Withdraw { Amount: <= 0 } withdraw => Reject($"amount must be a positive integer, not {withdraw.Amount}", ErrorCode.InvalidArgument),
        Deposit deposit when account.Balance > long.MaxValue - deposit.Amount =>
            Reject($"depositing {deposit.Amount} onto the balance {account.Balance} overflows a 64-bit integer", ErrorCode.Overflow),
        Deposit deposit => Apply(account, account.Balance + deposit.Amount),
        Withdraw withdraw when withdraw.Amount > account.Balance =>
            Reject($"insufficient funds: the balance is {account.Balance}, the withdrawal {withdraw.Amount}"),
        Withdraw withdraw => Apply(account, account.Balance - withdraw.Amount),
        GetBalance => Unchanged(new AccountBalance(account.Balance)),
        _ => Reject($"{operation.GetType().Name} is not an account operation", ErrorCode.InvalidArgument),
    };

    private static OperationOutcome<Account> Apply(Account account, long balance) =>
        Changed(account with { Balance = balance }, new AccountBalance(balance));
}
