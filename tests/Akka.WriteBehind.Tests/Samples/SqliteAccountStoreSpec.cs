using Akka.WriteBehind.Batches;
using Akka.WriteBehind.Samples.Accounts;
using Akka.WriteBehind.Tests.Batches;
using Akka.WriteBehind.Tests.Support;

namespace Akka.WriteBehind.Tests.Samples;

public sealed class SqliteAccountStoreSpec : AccountStoreSpecBase
{
    private readonly TempDirectory _dir = new();
    private readonly SqliteAccountStore _store;

    public SqliteAccountStoreSpec() => _store = SqliteAccountStore.ForDirectory(_dir.Path);

    private protected override IBulkResourceStore<Account> Store => _store;

    private protected override Task<(long Balance, long Version)?> TryReadRowAsync(string key) => AccountsTable.TryReadAsync(_dir.DatabaseFile, key);

    public override Task DisposeAsync()
    {
        _dir.Dispose();
        return Task.CompletedTask;
    }
}
