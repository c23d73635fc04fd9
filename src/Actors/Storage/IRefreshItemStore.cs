using Akka.WriteBehind.Refresh;

namespace Akka.WriteBehind.Storage;

/// <summary>
/// Where the refresh cache keeps the latest state of every item, so that items survive shard hand-off and node restarts.
/// The library's stores use the table <c>refresh_items(id text primary key, state text not null, terminal boolean not null,
/// updated_at timestamp)</c>. Implementations must be safe for concurrent calls (never two for the same id at once).
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

    /// <summary>Inserts or replaces the item.</summary>
    /// <param name="item">The item.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    Task SaveAsync(RefreshItem item, CancellationToken cancellationToken = default);

    /// <summary>Deletes the item; nothing happens when there is none.</summary>
    /// <param name="id">The item's id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    Task DeleteAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Ids of non-terminal items in ordinal order, after <paramref name="after"/> (exclusive), at most <paramref name="limit"/>.</summary>
    /// <param name="after">The last id of the previous page, or <c>null</c> for the first page.</param>
    /// <param name="limit">Most ids returned.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    Task<IReadOnlyList<string>> ActiveIdsAsync(string? after, int limit, CancellationToken cancellationToken = default);
}
