using System.Data;
using System.Data.Common;
using Akka.WriteBehind.Batches;

namespace Akka.WriteBehind.Samples.Accounts;

/// <summary>
/// What the account stores share, whatever the database: loads and saves go through the bulk forms (one round trip for many
/// keys), a key never saved loads as <see cref="Account.Empty"/>, and a save writes <c>version + 1</c> only over the version
/// it loaded (optimistic concurrency), so a second writer of a key fails instead of overwriting. A provider supplies the
/// statements in its dialect: <see cref="SqliteAccountStore"/>, <see cref="PostgresAccountStore"/>.
/// </summary>
public abstract class AccountStore : IIdempotentResourceStore<Account>
{
    /// <inheritdoc />
    public abstract Task InitializeAsync(CancellationToken cancellationToken = default);

    /// <inheritdoc />
    public async Task<Account> LoadAsync(string key, CancellationToken cancellationToken) =>
        (await LoadManyAsync([key], cancellationToken).ConfigureAwait(false))[key];

    /// <summary>Loads many accounts in one query; a key never saved loads as <see cref="Account.Empty"/>.</summary>
    /// <param name="keys">Distinct keys.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>Every account, by key.</returns>
    public async Task<IReadOnlyDictionary<string, Account>> LoadManyAsync(IReadOnlyCollection<string> keys, CancellationToken cancellationToken)
    {
        var loaded = new Dictionary<string, Account>(keys.Count, StringComparer.Ordinal);
        if (keys.Count == 0)
            return loaded;
        foreach (var key in keys)
            loaded[key] = Account.Empty;
        await ReadAccountsAsync(keys, loaded, cancellationToken).ConfigureAwait(false);
        return loaded;
    }

    /// <inheritdoc />
    public async Task<Account> SaveAsync(string key, Account resource, CancellationToken cancellationToken)
    {
        var stored = await SaveManyAsync(new Dictionary<string, Account>(StringComparer.Ordinal) { [key] = resource }, cancellationToken)
            .ConfigureAwait(false);
        return stored[key];
    }

    /// <summary>
    /// Saves every account in one transaction: each row gets the new balance and <c>version + 1</c>, only where the stored
    /// version is the one the account was loaded with (a new row for version 0).
    /// </summary>
    /// <param name="resources">New state per key.</param>
    /// <param name="cancellationToken">Checked before the commit: once cancelled, nothing is committed.</param>
    /// <returns>Every account as stored (its version incremented).</returns>
    /// <exception cref="DBConcurrencyException">A row's version is not the one loaded: another writer saved the key. Nothing is saved.</exception>
    public Task<IReadOnlyDictionary<string, Account>> SaveManyAsync(IReadOnlyDictionary<string, Account> resources, CancellationToken cancellationToken) =>
        SaveAsync(resources, [], null, cancellationToken);

    /// <inheritdoc />
    public async Task<IReadOnlyDictionary<string, IReadOnlyList<RememberedRequest>>> LoadRequestsAsync(
        IReadOnlyCollection<string> keys, DateTime since, CancellationToken cancellationToken)
    {
        var byKey = new Dictionary<string, IReadOnlyList<RememberedRequest>>(StringComparer.Ordinal);
        if (keys.Count > 0)
            await ReadRequestsAsync(keys, since, byKey, cancellationToken).ConfigureAwait(false);
        return byKey;
    }

    /// <inheritdoc />
    public Task<IReadOnlyDictionary<string, Account>> SaveManyWithRequestsAsync(IReadOnlyDictionary<string, Account> resources,
        IReadOnlyList<KeyValuePair<string, RememberedRequest>> requests, DateTime forgetBefore, CancellationToken cancellationToken) =>
        SaveAsync(resources, requests, forgetBefore, cancellationToken);

    /// <summary>Reads the stored rows of <paramref name="keys"/> over their <see cref="Account.Empty"/> in <paramref name="into"/>.</summary>
    protected abstract Task ReadAccountsAsync(IReadOnlyCollection<string> keys, Dictionary<string, Account> into, CancellationToken cancellationToken);

    /// <summary>Reads the requests of <paramref name="keys"/> saved at or after <paramref name="since"/>, oldest first (<see cref="AccountRequests.AddRow"/>).</summary>
    protected abstract Task ReadRequestsAsync(IReadOnlyCollection<string> keys, DateTime since,
        Dictionary<string, IReadOnlyList<RememberedRequest>> into, CancellationToken cancellationToken);

    /// <summary>
    /// In one transaction: upserts <paramref name="rows"/> at <c>version + 1</c> only over the version each was loaded with,
    /// refusing the save when a row was not written (<see cref="UpsertAllAsync"/>); forgets requests saved before
    /// <paramref name="forgetBefore"/> (when given); writes <paramref name="requests"/>; commits unless
    /// <paramref name="cancellationToken"/> was cancelled by then.
    /// </summary>
    /// <param name="rows">The accounts in ordinal key order (concurrent writers lock rows in the same order).</param>
    /// <param name="requests">The request ids to remember with their accounts.</param>
    /// <param name="forgetBefore">Requests saved before this are deleted; <c>null</c>: none.</param>
    /// <param name="cancellationToken">Checked before the commit.</param>
    protected abstract Task WriteAsync(KeyValuePair<string, Account>[] rows, IReadOnlyList<KeyValuePair<string, RememberedRequest>> requests,
        DateTime? forgetBefore, CancellationToken cancellationToken);

    /// <summary>
    /// Runs <paramref name="upsert"/>, which returns the key of every row it wrote, and refuses the save when a row was not
    /// written: another writer saved that key since it was loaded.
    /// </summary>
    /// <exception cref="DBConcurrencyException">Some of <paramref name="rows"/> were not written.</exception>
    protected static async Task UpsertAllAsync(DbCommand upsert, KeyValuePair<string, Account>[] rows, CancellationToken cancellationToken)
    {
        var written = new HashSet<string>(StringComparer.Ordinal);
        await using (var reader = await upsert.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                written.Add(reader.GetString(0));
        }

        if (written.Count == rows.Length)
            return;
        var conflicts = rows.Where(e => !written.Contains(e.Key)).Take(10).Select(e => $"[{e.Key}] (loaded at version {e.Value.Version})");
        throw new DBConcurrencyException(
            "accounts were saved by another writer since they were loaded; nothing was saved: " + string.Join(", ", conflicts));
    }

    /// <summary>Commits <paramref name="transaction"/> unless <paramref name="cancellationToken"/> was cancelled by now.</summary>
    protected static async Task CommitUnlessCancelledAsync(DbTransaction transaction, CancellationToken cancellationToken)
    {
        // a caller that gave up (max-duration) has been told the batch failed: it must not commit now
        cancellationToken.ThrowIfCancellationRequested();
        await transaction.CommitAsync(CancellationToken.None).ConfigureAwait(false);
    }

    private async Task<IReadOnlyDictionary<string, Account>> SaveAsync(IReadOnlyDictionary<string, Account> resources,
        IReadOnlyList<KeyValuePair<string, RememberedRequest>> requests, DateTime? forgetBefore, CancellationToken cancellationToken)
    {
        var stored = new Dictionary<string, Account>(resources.Count, StringComparer.Ordinal);
        if (resources.Count == 0)
            return stored;

        var rows = resources.OrderBy(r => r.Key, StringComparer.Ordinal).ToArray();
        await WriteAsync(rows, requests, forgetBefore, cancellationToken).ConfigureAwait(false);
        foreach (var (key, account) in rows)
            stored[key] = account with { Version = account.Version + 1 };
        return stored;
    }
}
