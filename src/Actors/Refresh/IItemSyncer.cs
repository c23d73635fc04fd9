namespace Akka.WriteBehind.Refresh;

/// <summary>
/// Fetches the truth of items from the service that owns it (flyte's <c>SyncFunc</c>). The refresh supervisor of each node
/// calls it with batches of up to <c>batch-size</c> items, at most <c>parallelism</c> calls at once, under the rate limit
/// (<c>tps</c>, <c>burst</c>). Never with the same item in two calls at once.
/// </summary>
/// <remarks>
/// Return one <see cref="SyncResult"/> per item (matched by id; an item left out counts as <see cref="SyncFailed"/>). A
/// call that throws, or does not finish within <c>sync-timeout</c> (its token is then cancelled), fails every item of its
/// batch only; they are retried in the next cycle.
/// </remarks>
public interface IItemSyncer
{
    /// <summary>Syncs a batch of items.</summary>
    /// <param name="items">The items, as the cache holds them.</param>
    /// <param name="cancellationToken">Cancelled at <c>sync-timeout</c> or when the node stops.</param>
    /// <returns>One result per item.</returns>
    Task<IReadOnlyList<SyncResult>> SyncAsync(IReadOnlyList<RefreshItem> items, CancellationToken cancellationToken);
}

/// <summary>The outcome of syncing one item: <see cref="SyncUnchanged"/>, <see cref="SyncUpdated"/>, <see cref="SyncDeleted"/> or <see cref="SyncFailed"/>.</summary>
/// <param name="Id">The item's id.</param>
public abstract record SyncResult(string Id)
{
    /// <summary>The item is up to date.</summary>
    /// <param name="id">The item's id.</param>
    public static SyncResult Unchanged(string id) => new SyncUnchanged(id);

    /// <summary>The item has a new state (its id must be the item's; <c>Terminal</c> stops further refreshes).</summary>
    /// <param name="item">The new item.</param>
    public static SyncResult Updated(RefreshItem item) => new SyncUpdated(item);

    /// <summary>The item no longer exists upstream: it is deleted from the cache and the store.</summary>
    /// <param name="id">The item's id.</param>
    public static SyncResult Deleted(string id) => new SyncDeleted(id);

    /// <summary>The sync failed; the item is kept as it is and retried in the next cycle.</summary>
    /// <param name="id">The item's id.</param>
    /// <param name="reason">Why, for the log and metrics.</param>
    public static SyncResult Failed(string id, string reason) => new SyncFailed(id, reason);
}

/// <summary>The item is up to date.</summary>
/// <param name="Id">The item's id.</param>
public sealed record SyncUnchanged(string Id) : SyncResult(Id);

/// <summary>The item has a new state; it is stored and replaces the cached one.</summary>
/// <param name="Item">The new item.</param>
public sealed record SyncUpdated(RefreshItem Item) : SyncResult(Item.Id);

/// <summary>The item no longer exists upstream; it is deleted.</summary>
/// <param name="Id">The item's id.</param>
public sealed record SyncDeleted(string Id) : SyncResult(Id);

/// <summary>The sync of the item failed; it is retried in the next cycle.</summary>
/// <param name="Id">The item's id.</param>
/// <param name="Reason">Why.</param>
public sealed record SyncFailed(string Id, string Reason) : SyncResult(Id);
