
namespace Akka.WriteBehind.Refresh;

/// <summary>
/// Where the refresh cache keeps the latest state of every item, so that items survive shard hand-off and node restarts.
/// The library's stores use the table <c>refresh_items(id text primary key, state text not null, terminal boolean not null,
/// updated_at timestamp, version bigint not null default 0)</c>. Implementations must be safe for concurrent calls (never two
/// for the same id at once).
/// </summary>
public interface IRefreshItemStore
{
    /// <summary>Creates the schema if it does not exist. Idempotent; called once before anything else.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    Task InitializeAsync(CancellationToken cancellationToken = default);

    /// <summary>The stored item <paramref name="id"/>, or <c>null</c> when there is none.</summary>
    /// <param name="id">The item's id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    Task<RefreshItem?> LoadAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>
    /// The stored item <paramref name="id"/> with its version (see <see cref="RefreshItemWrite.Version"/>), or <c>null</c>
    /// when there is none. The default implementation (for stores that keep no versions, and wrappers that do not forward
    /// this call) reports the version as unknown: the item's sync results are then stored without the version check.
    /// </summary>
    /// <param name="id">The item's id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    async Task<StoredRefreshItem?> LoadVersionedAsync(string id, CancellationToken cancellationToken = default) =>
        await LoadAsync(id, cancellationToken).ConfigureAwait(false) is { } item ? new StoredRefreshItem(item, null) : null;

    /// <summary>Inserts or replaces the item.</summary>
    /// <param name="item">The item.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    Task SaveAsync(RefreshItem item, CancellationToken cancellationToken = default);

    /// <summary>Deletes the item; nothing happens when there is none.</summary>
    /// <param name="id">The item's id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    Task DeleteAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>
    /// Applies <paramref name="writes"/> in one transaction: all are stored, or the call fails and none is. Writes of the same
    /// id apply in list order (the last one wins). The refresh cache's store writer calls this with the changes of many items
    /// at once (<c>akka.write-behind.refresh.store-writer</c>).
    /// </summary>
    /// <remarks>
    /// The default implementation calls <see cref="SaveAsync"/> / <see cref="DeleteAsync"/> one write after another: correct
    /// (every write is idempotent, and a failed batch is retried whole) but neither atomic nor fast, and it keeps no versions
    /// (a <see cref="RefreshItemWrite.IfOlder"/> write is applied unconditionally). The library's stores override it with one
    /// transaction and the version check.
    /// </remarks>
    /// <param name="writes">The writes, in the order they were made.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    async Task ApplyAsync(IReadOnlyList<RefreshItemWrite> writes, CancellationToken cancellationToken = default)
    {
        foreach (var write in writes)
        {
            if (write.Item is null)
                await DeleteAsync(write.Id, cancellationToken).ConfigureAwait(false);
            else
                await SaveAsync(write.Item, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Ids of non-terminal items in ordinal order, after <paramref name="after"/> (exclusive), at most <paramref name="limit"/>.</summary>
    /// <param name="after">The last id of the previous page, or <c>null</c> for the first page.</param>
    /// <param name="limit">Most ids returned.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    Task<IReadOnlyList<string>> ActiveIdsAsync(string? after, int limit, CancellationToken cancellationToken = default);
}

/// <summary>A stored item and the version of its row.</summary>
/// <param name="Item">The item.</param>
/// <param name="Version">The version its last write stored (0 for rows written before versions existed); <c>null</c> when
/// the store keeps no versions.</param>
public sealed record StoredRefreshItem(RefreshItem Item, long? Version);

/// <summary>One write of <see cref="IRefreshItemStore.ApplyAsync"/>: save <see cref="Item"/>, or delete <see cref="Id"/> when it is <c>null</c>.</summary>
/// <param name="Id">The item's id.</param>
/// <param name="Item">The item to insert or replace (its <see cref="RefreshItem.Id"/> is <paramref name="Id"/>); <c>null</c> deletes the item.</param>
/// <exception cref="ArgumentException"><paramref name="Item"/> has another id than <paramref name="Id"/>.</exception>
public sealed record RefreshItemWrite(string Id, RefreshItem? Item)
{
    /// <summary>
    /// The item's version after this write, stored with the row. The item's entity counts every change of the item, starting
    /// from the version it loaded, so versions only grow while the row exists. <b>Default</b>: 0.
    /// </summary>
    public long Version { get; init; }

    /// <summary>
    /// The write of a background sync's result: applied only when the row exists and its version is older than
    /// <see cref="Version"/>, so a result based on an older state never overwrites a newer change (a caller's <c>PUT</c>
    /// stored meanwhile, also by another node after a hand-off). Other writes are applied whatever the row's version.
    /// </summary>
    public bool IfOlder { get; init; }

    /// <summary>The item's id.</summary>
    public string Id { get; init; } = Item is null || string.Equals(Item.Id, Id, StringComparison.Ordinal)
        ? Id
        : throw new ArgumentException($"a save of item [{Item.Id}] is filed under the id [{Id}]", nameof(Item));

    /// <summary>Inserts or replaces <paramref name="item"/>.</summary>
    /// <param name="item">The item.</param>
    public static RefreshItemWrite Save(RefreshItem item) => new(item.Id, item);

    /// <summary>A sync's result: saves <paramref name="item"/> (or deletes the item when <c>null</c>) as version
    /// <paramref name="version"/>, only if the stored row is older (see <see cref="IfOlder"/>).</summary>
    /// <param name="id">The item's id.</param>
    /// <param name="item">The synced item, or <c>null</c> when the sync deleted it.</param>
    /// <param name="version">The item's version after the sync.</param>
    public static RefreshItemWrite Synced(string id, RefreshItem? item, long version) =>
        new(id, item) { Version = version, IfOlder = true };

    /// <summary>Deletes the item <paramref name="id"/> (nothing happens when there is none).</summary>
    /// <param name="id">The item's id.</param>
    public static RefreshItemWrite Delete(string id) => new(id, null);

    /// <summary>The writes that remain of <paramref name="writes"/> when only the last write of each id counts (same outcome
    /// as applying all in order), in ordinal order of the ids (a stable lock order for concurrent transactions).</summary>
    internal static RefreshItemWrite[] LastPerId(IReadOnlyList<RefreshItemWrite> writes)
    {
        var last = new Dictionary<string, RefreshItemWrite>(writes.Count, StringComparer.Ordinal);
        foreach (var write in writes)
            last[write.Id] = write;

        return last.Values.OrderBy(w => w.Id, StringComparer.Ordinal).ToArray();
    }
}
