using Akka.WriteBehind.Batches;

namespace Akka.WriteBehind.Samples.Accounts;

/// <summary>
/// The sample batch resource: a bank account whose balance never goes below zero. Stored in the table
/// <c>accounts(key, balance, version)</c> by <see cref="SqliteAccountStore"/> or <see cref="PostgresAccountStore"/>; changed only through <see cref="AccountOperations"/>.
/// </summary>
/// <param name="Balance">The balance, never negative.</param>
/// <param name="Version">How many times the account was saved (0: never). The store only saves over the version it loaded,
/// so a second writer of the same key would fail instead of overwriting.</param>
public sealed record Account(long Balance, long Version)
{
    /// <summary>An account never saved: balance 0, version 0.</summary>
    public static readonly Account Empty = new(0, 0);
}

/// <summary>Adds <paramref name="Amount"/> to the balance. Refused with <see cref="ErrorCode.InvalidArgument"/> unless
/// positive, with <see cref="ErrorCode.Overflow"/> when the balance would leave the 64-bit range.</summary>
/// <param name="Amount">A positive amount.</param>
public sealed record Deposit(long Amount) : IBatchOperation<AccountBalance>;

/// <summary>Takes <paramref name="Amount"/> from the balance. Refused with <see cref="ErrorCode.Rejected"/> on insufficient
/// funds, with <see cref="ErrorCode.InvalidArgument"/> unless positive.</summary>
/// <param name="Amount">A positive amount.</param>
public sealed record Withdraw(long Amount) : IBatchOperation<AccountBalance>;

/// <summary>Reads the balance.</summary>
public sealed class GetBalance : IBatchOperation<AccountBalance>
{
    /// <summary>The operation.</summary>
    public static readonly GetBalance Instance = new();

    private GetBalance()
    {
    }
}

/// <summary>The result of every account operation: the balance after it (saved by the time the caller sees it).</summary>
/// <param name="Balance">The balance.</param>
public sealed record AccountBalance(long Balance);
