using System.Data;
using Akka.WriteBehind.Batches.Accounts;
using Akka.WriteBehind.Tests.Batches;
using Akka.WriteBehind.Tests.Support;

namespace Akka.WriteBehind.Tests.Storage;

public sealed class SqliteAccountStoreSpec : IAsyncLifetime
{
    private readonly TempDirectory _dir = new();
    private readonly SqliteAccountStore _store;

    public SqliteAccountStoreSpec() => _store = SqliteAccountStore.ForDirectory(_dir.Path);

    public Task InitializeAsync() => _store.InitializeAsync();

    public Task DisposeAsync()
    {
        _dir.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Should_load_an_account_never_saved_as_empty()
    {
        Assert.Equal(Account.Empty, await _store.LoadAsync("nobody", CancellationToken.None));
    }

    [Fact]
    public async Task Should_save_many_accounts_in_one_call_bumping_each_version()
    {
        var loaded = await _store.LoadAsync("a", CancellationToken.None);
        var stored = await _store.SaveManyAsync(new Dictionary<string, Account>
        {
            ["a"] = loaded with { Balance = 10 },
            ["b"] = Account.Empty with { Balance = 20 },
        }, CancellationToken.None);

        Assert.Equal(new Account(10, 1), stored["a"]);
        Assert.Equal(new Account(20, 1), stored["b"]);
        Assert.Equal(new Account(10, 1), await _store.LoadAsync("a", CancellationToken.None));
        Assert.Equal(new Account(25, 2), await _store.SaveAsync("b", stored["b"] with { Balance = 25 }, CancellationToken.None));
        Assert.Equal((25, 2), await AccountsTable.ReadAsync(_dir.DatabaseFile, "b"));
    }

    [Fact]
    public async Task Should_refuse_to_save_over_a_version_it_did_not_load_and_save_nothing_of_the_group()
    {
        await _store.SaveAsync("race", Account.Empty with { Balance = 5 }, CancellationToken.None); // version 1

        // a second writer that loaded version 0 must not overwrite version 1; the other key of its group is not saved either
        var conflict = await Assert.ThrowsAsync<DBConcurrencyException>(() => _store.SaveManyAsync(new Dictionary<string, Account>
        {
            ["race"] = Account.Empty with { Balance = 99 },
            ["innocent"] = Account.Empty with { Balance = 1 },
        }, CancellationToken.None));

        Assert.Contains("[race]", conflict.Message);
        Assert.Equal((5, 1), await AccountsTable.ReadAsync(_dir.DatabaseFile, "race"));
        Assert.Null(await AccountsTable.TryReadAsync(_dir.DatabaseFile, "innocent"));
    }

    [Fact]
    public async Task Should_commit_nothing_once_cancelled()
    {
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _store.SaveAsync("late", new Account(3, 0), cancelled.Token));

        Assert.Null(await AccountsTable.TryReadAsync(_dir.DatabaseFile, "late"));
    }
}
