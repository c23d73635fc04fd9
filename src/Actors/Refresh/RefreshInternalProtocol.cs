using Akka.Actor;

namespace Akka.WriteBehind.Refresh;

/// <summary>INTERNAL API: the hand-off stop message of item entities (also used for their own passivation): stop once every write is done.</summary>
internal sealed class StopItem
{
    public static readonly StopItem Instance = new();

    private StopItem()
    {
    }
}

/// <summary>
/// INTERNAL API: starts the entity of <see cref="Key"/> so that a stored item is refreshed without a caller (node start,
/// member left). <paramref name="Touch"/>: on behalf of a caller (an entity touched while it was passivating), so it may
/// evict another item at the cap.
/// </summary>
internal sealed record WakeItem(string Key, bool Touch = false) : IRefreshCommand;

/// <summary>
/// INTERNAL API: entity → its node's supervisor: refresh this item (and hold its latest state). <paramref name="Touch"/>: a
/// caller used it (moves it to the front of the LRU order; may evict another at the cap; a track without touch is refused
/// at the cap). <paramref name="SyncNow"/>: queue a sync at once (sync-on-create). <paramref name="Version"/>: the item's
/// version in the entity, carried through a sync of it and back in <see cref="ApplySync"/>.
/// </summary>
internal sealed record TrackItem(RefreshItem Item, bool Touch, bool SyncNow, long Version);

/// <summary>INTERNAL API: entity → supervisor: stop refreshing the item (terminal, deleted, stopping).</summary>
internal sealed record UntrackItem(string Id);

/// <summary>INTERNAL API: supervisor → entity: the item is tracked by the sender (watch it; track again if it restarts).</summary>
internal sealed class ItemTracked
{
    public static readonly ItemTracked Instance = new();

    private ItemTracked()
    {
    }
}

/// <summary>INTERNAL API: supervisor → entity: the node holds max-items-per-node items; this one is not refreshed here (passivate).</summary>
internal sealed class ItemNotTracked
{
    public static readonly ItemNotTracked Instance = new();

    private ItemNotTracked()
    {
    }
}

/// <summary>INTERNAL API: supervisor → entity: evicted as the least recently used at the cap; passivate.</summary>
internal sealed class EvictItem
{
    public static readonly EvictItem Instance = new();

    private EvictItem()
    {
    }
}

/// <summary>
/// INTERNAL API: supervisor → entity: the outcome of a sync of the item, which started from the item's version
/// <paramref name="BasedOn"/>; the entity applies it only if the item has not changed since.
/// </summary>
internal sealed record ApplySync(SyncResult Result, long BasedOn);

/// <summary>INTERNAL API: the outcome of one syncer call, from the stream to the supervisor.</summary>
/// <param name="Epoch">The stream that produced it.</param>
/// <param name="Results">One per item of the batch.</param>
/// <param name="Latency">Duration of the call.</param>
/// <param name="Error">Why the whole batch failed (threw or timed out), else <c>null</c>.</param>
internal sealed record SyncBatchDone(int Epoch, IReadOnlyList<SyncResult> Results, TimeSpan Latency, string? Error);

/// <summary>INTERNAL API: asks a supervisor for its state (tests, diagnostics); the reply is <see cref="RefreshSupervisorState"/>.</summary>
internal sealed class GetRefreshSupervisorState
{
    public static readonly GetRefreshSupervisorState Instance = new();

    private GetRefreshSupervisorState()
    {
    }
}

/// <summary>INTERNAL API: a supervisor's state.</summary>
/// <param name="Tracked">Ids of the items refreshed on this node.</param>
/// <param name="Rate">The rate the next cycle uses.</param>
/// <param name="UpMembers">Up members counted (cluster scope), else 0.</param>
/// <param name="CyclesStarted">Cycles started since the supervisor started.</param>
/// <param name="CyclesSkipped">Cycles skipped because the previous one was still running.</param>
internal sealed record RefreshSupervisorState(IReadOnlyList<string> Tracked, RefreshRate Rate, int UpMembers, long CyclesStarted, long CyclesSkipped);

/// <summary>
/// INTERNAL API: entity → its node's <see cref="RefreshStoreWriterActor"/>: store <see cref="Write"/>, the entity's change
/// <see cref="Version"/>. The reply is <see cref="ItemWritten"/> or <see cref="ItemWriteFailed"/> with the same version.
/// </summary>
internal sealed record WriteItem(RefreshItemWrite Write, long Version);

/// <summary>INTERNAL API: store writer → entity: the change <see cref="Version"/> of item <see cref="Id"/> is committed.</summary>
internal sealed record ItemWritten(string Id, long Version);

/// <summary>INTERNAL API: store writer → entity: the change <see cref="Version"/> of item <see cref="Id"/> was not committed (or its outcome is unknown).</summary>
internal sealed record ItemWriteFailed(string Id, long Version, string Reason);
