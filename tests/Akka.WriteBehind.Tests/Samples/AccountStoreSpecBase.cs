using System.Data;
using Akka.WriteBehind.Batches;
using Akka.WriteBehind.Samples.Accounts;

namespace Akka.WriteBehind.Tests.Samples;

/// <summary>
/// The contract of an account store, run against each real database (<see cref="SqliteAccountStoreSpec"/>,
/// <see cref="PostgresAccountStoreSpec"/>): empty loads, saves bumping the version, optimistic concurrency over a whole group,
/// nothing committed once cancelled.
/// </summary>
public abstract class AccountStoreSpecBase : IAsyncLifetime
{
    /// <summary>The store under test (initialized before each spec).</summary>
    private protected abstract IBulkResourceStore<Account> Store { get; }

    /// <summary>The row of <paramref name="key"/> read directly from the database, as an operator would; null when there is none.</summary>
    private protected abstract Task<(long Balance, long Version)?> TryReadRowAsync(string key);

    public virtual Task InitializeAsync() => Store.InitializeAsync();

    public abstract Task DisposeAsync();

    [Fact]
    public async Task Should_load_an_account_never_saved_as_empty()
    {
        Assert.Equal(Account.Empty, await Store.LoadAsync("nobody", CancellationToken.None));
    }

    [Fact]
    public async Task Should_load_many_accounts_in_one_call_with_keys_never_saved_as_empty()
    {
        await Store.SaveManyAsync(new Dictionary<string, Account> { ["lm-a"] = new(5, 0), ["lm-b"] = new(7, 0) }, CancellationToken.None);

        var loaded = await Store.LoadManyAsync(["lm-a", "lm-b", "lm-nobody"], CancellationToken.None);

        Assert.Equal(3, loaded.Count);
        Assert.Equal(new Account(5, 1), loaded["lm-a"]);
        Assert.Equal(new Account(7, 1), loaded["lm-b"]);
        Assert.Equal(Account.Empty, loaded["lm-nobody"]);
    }

    [Fact]
    public async Task Should_save_many_accounts_in_one_call_bumping_each_version()
    {
        var loaded = await Store.LoadAsync("a", CancellationToken.None);
        var stored = await Store.SaveManyAsync(new Dictionary<string, Account>
        {
            ["a"] = loaded with { Balance = 10 },
            ["b"] = Account.Empty with { Balance = 20 },
        }, CancellationToken.None);

        Assert.Equal(new Account(10, 1), stored["a"]);
        Assert.Equal(new Account(20, 1), stored["b"]);
        Assert.Equal(new Account(10, 1), await Store.LoadAsync("a", CancellationToken.None));
        Assert.Equal(new Account(25, 2), await Store.SaveAsync("b", stored["b"] with { Balance = 25 }, CancellationToken.None));
        Assert.Equal((25L, 2L), await TryReadRowAsync("b"));
    }

    [Fact]
    public async Task Should_save_and_load_a_group_of_thousands_of_accounts_with_awkward_keys_in_one_call()
    {
        // more rows than any one statement of fixed parameters would take, keys that need quoting in SQL and in JSON
        var keys = Enumerable.Range(0, 2_500).Select(i => $"many-{i}-'\"\\ é {i % 7}").ToArray();
        var stored = await Store.SaveManyAsync(keys.ToDictionary(k => k, k => Account.Empty with { Balance = k.Length }), CancellationToken.None);

        var loaded = await Store.LoadManyAsync(keys, CancellationToken.None);

        Assert.Equal(keys.Length, loaded.Count);
        Assert.All(keys, k => Assert.Equal(new Account(k.Length, 1), loaded[k]));
        Assert.Equal(stored, loaded.ToDictionary(e => e.Key, e => e.Value));
        Assert.Equal(((long)keys[1_234].Length, 1L), await TryReadRowAsync(keys[1_234]));
    }

    [Fact]
    public async Task Should_refuse_to_save_over_a_version_it_did_not_load_and_save_nothing_of_the_group()
    {
        await Store.SaveAsync("race", Account.Empty with { Balance = 5 }, CancellationToken.None); // version 1

        // a second writer that loaded version 0 must not overwrite version 1; the other key of its group is not saved either
        var conflict = await Assert.ThrowsAsync<DBConcurrencyException>(() => Store.SaveManyAsync(new Dictionary<string, Account>
        {
            ["race"] = Account.Empty with { Balance = 99 },
            ["innocent"] = Account.Empty with { Balance = 1 },
        }, CancellationToken.None));

        Assert.Contains("[race]", conflict.Message);
        Assert.Equal((5L, 1L), await TryReadRowAsync("race"));
        Assert.Null(await TryReadRowAsync("innocent"));
    }

    [Fact]
    public async Task Should_commit_nothing_once_cancelled()
    {
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Store.SaveAsync("late", new Account(3, 0), cancelled.Token));

        Assert.Null(await TryReadRowAsync("late"));
    }

    [Fact]
    public async Task Should_keep_request_ids_with_the_save_and_forget_them_after_the_window()
    {
        var store = Assert.IsAssignableFrom<IIdempotentResourceStore<Account>>(Store);
        var now = DateTime.UtcNow;
        var old = now.AddMinutes(-20);
        await store.SaveManyWithRequestsAsync(new Dictionary<string, Account> { ["req"] = new(5, 0) },
            [KeyValuePair.Create("req", new RememberedRequest("old", new AccountBalance(5), old))], old.AddMinutes(-10), CancellationToken.None);

        // the next save keeps its own requests and deletes those saved before the window
        await store.SaveManyWithRequestsAsync(new Dictionary<string, Account> { ["req"] = new(12, 1), ["req-2"] = new(1, 0) },
        [
            KeyValuePair.Create("req", new RememberedRequest("dep-7", new AccountBalance(12), now)),
            KeyValuePair.Create("req-2", new RememberedRequest("dep-1", null, now)),
        ], now.AddMinutes(-10), CancellationToken.None);

        var loaded = await store.LoadRequestsAsync(["req", "req-2", "nobody"], old.AddMinutes(-1), CancellationToken.None);
        var request = Assert.Single(loaded["req"]);
        Assert.Equal("dep-7", request.RequestId);
        Assert.Equal(new AccountBalance(12), request.Result);
        Assert.InRange(request.At, now.AddMilliseconds(-1), now.AddMilliseconds(1));
        Assert.Null(Assert.Single(loaded["req-2"]).Result);
        Assert.False(loaded.ContainsKey("nobody"));
        Assert.Equal((12L, 2L), await TryReadRowAsync("req"));
    }

    [Fact]
    public async Task Should_commit_no_request_id_when_the_save_fails()
    {
        var store = Assert.IsAssignableFrom<IIdempotentResourceStore<Account>>(Store);
        await Store.SaveAsync("req-race", new Account(5, 0), CancellationToken.None); // version 1

        await Assert.ThrowsAsync<DBConcurrencyException>(() => store.SaveManyWithRequestsAsync(
            new Dictionary<string, Account> { ["req-race"] = new(9, 0) },
            [KeyValuePair.Create("req-race", new RememberedRequest("lost", new AccountBalance(9), DateTime.UtcNow))],
            DateTime.UtcNow.AddMinutes(-10), CancellationToken.None));

        Assert.Empty(await store.LoadRequestsAsync(["req-race"], DateTime.UtcNow.AddMinutes(-10), CancellationToken.None));
    }
}
