namespace Akka.WriteBehind.Refresh;

/// <summary>
/// One item of the refresh cache: its id, its state as an opaque string (JSON by convention; the library never parses
/// it) and whether it is terminal. A terminal item is kept and readable but never refreshed again (a finished job, say).
/// Items are plain strings so that they cross nodes, go to SQL and over HTTP without a serializer of their own.
/// </summary>
/// <param name="Id">The item's id, the entity key: non-empty, at most 256 UTF-8 bytes, no control characters.</param>
/// <param name="State">The item's state; not null.</param>
/// <param name="Terminal">Whether the item has reached a final state and needs no more refreshing.</param>
public sealed record RefreshItem(string Id, string State, bool Terminal = false);

/// <summary>A command for one item entity. Send it to the <see cref="RefreshRegion"/> actor.</summary>
public interface IRefreshCommand : IWithKey
{
}

/// <summary>A reply of an item entity: <see cref="RefreshItemReply"/>, <see cref="RefreshItemDeleted"/> or <see cref="RefreshRejected"/>.</summary>
public interface IRefreshReply : IWithKey
{
}

/// <summary>
/// Returns the item <c>Item.Id</c>, creating it from <paramref name="Item"/> when it does not exist (idempotent: an existing
/// item is returned unchanged). A new item is stored before the reply and, with <c>sync-on-create = on</c>, queued for a
/// sync at once. Reply: <see cref="RefreshItemReply"/> (<c>Created</c> tells which) or <see cref="RefreshRejected"/>.
/// </summary>
/// <param name="Item">The item to create when absent.</param>
public sealed record GetOrCreateItem(RefreshItem Item) : IRefreshCommand
{
    /// <inheritdoc />
    public string Key => Item.Id;
}

/// <summary>Returns the item; <see cref="RefreshRejected"/> with <see cref="ErrorCode.NotFound"/> when it does not exist.</summary>
/// <param name="Key">The item's id.</param>
public sealed record GetItem(string Key) : IRefreshCommand;

/// <summary>
/// Replaces an existing item (only if present: <see cref="ErrorCode.NotFound"/> otherwise). The reply comes once it is
/// stored. Setting <c>Terminal</c> stops its refresh; clearing it resumes it.
/// </summary>
/// <param name="Item">The new item.</param>
public sealed record UpdateItem(RefreshItem Item) : IRefreshCommand
{
    /// <inheritdoc />
    public string Key => Item.Id;
}

/// <summary>
/// Creates or replaces the item (HTTP <c>PUT</c>). Reply: <see cref="RefreshItemReply"/> once stored, <c>Created</c> when
/// it did not exist (then, with <c>sync-on-create = on</c>, it is queued for a sync at once).
/// </summary>
/// <param name="Item">The item.</param>
public sealed record PutItem(RefreshItem Item) : IRefreshCommand
{
    /// <inheritdoc />
    public string Key => Item.Id;

    /// <summary>
    /// Makes the command safe to retry: a repeat of this id for the same item within <c>idempotency.window</c> is not applied
    /// again and gets the first answer (see <see cref="RequestIds"/>; an invalid id is refused with
    /// <see cref="ErrorCode.InvalidArgument"/>). Remembered by the item's entity while it lives. <c>null</c>: no id.
    /// </summary>
    public string? RequestId { get; init; }
}

/// <summary>
/// Deletes the item: removed from the store, no longer refreshed. Reply: <see cref="RefreshItemDeleted"/> once the row
/// is gone, or <see cref="ErrorCode.NotFound"/> when it did not exist.
/// </summary>
/// <param name="Key">The item's id.</param>
public sealed record DeleteItem(string Key) : IRefreshCommand
{
    /// <summary>Makes the command safe to retry, as <see cref="PutItem.RequestId"/> does.</summary>
    public string? RequestId { get; init; }
}

/// <summary>The item as it is now (stored).</summary>
/// <param name="Item">The item.</param>
/// <param name="Created">Whether this command created it.</param>
public sealed record RefreshItemReply(RefreshItem Item, bool Created) : IRefreshReply
{
    /// <inheritdoc />
    public string Key => Item.Id;
}

/// <summary>The item is deleted from the store and is no longer refreshed.</summary>
/// <param name="Key">The item's id.</param>
public sealed record RefreshItemDeleted(string Key) : IRefreshReply;

/// <summary>The command was refused; nothing was changed (<see cref="ErrorCode.StoreFailure"/>: the change is held and retried).</summary>
/// <param name="Key">The item's id.</param>
/// <param name="Code">Why, as a code to switch on: <see cref="ErrorCode.NotFound"/>, <see cref="ErrorCode.InvalidKey"/>,
/// <see cref="ErrorCode.InvalidArgument"/>, <see cref="ErrorCode.Saturated"/>, <see cref="ErrorCode.StoreFailure"/>,
/// <see cref="ErrorCode.ShuttingDown"/>.</param>
/// <param name="Message">Why, for people.</param>
public sealed record RefreshRejected(string Key, ErrorCode Code, string Message) : IRefreshReply;

/// <summary>
/// Registry key (<c>IRequiredActor&lt;RefreshRegion&gt;</c>) of the refresh cache's entry point: a node-local actor that
/// validates ids and items and forwards <see cref="IRefreshCommand"/>s to the item shard region.
/// </summary>
public sealed class RefreshRegion
{
    private RefreshRegion()
    {
    }
}
