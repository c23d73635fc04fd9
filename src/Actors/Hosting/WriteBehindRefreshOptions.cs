using Akka.Actor;
using Akka.Configuration;
using Akka.WriteBehind.Internal;
using Akka.WriteBehind.Refresh;

namespace Akka.WriteBehind.Hosting;

/// <summary>
/// Options of <see cref="WriteBehindRefreshHostingExtensions.WithWriteBehindRefresh(Akka.Hosting.AkkaConfigurationBuilder, WriteBehindRefreshOptions)"/>.
/// Every setting left <c>null</c> keeps the value of the application's HOCON, else the library default in
/// <c>reference.conf</c> (<c>akka.write-behind.refresh</c>).
/// </summary>
public sealed class WriteBehindRefreshOptions
{
    /// <summary>The syncer that fetches the items' truth. <b>Default</b>: <c>null</c> (see <see cref="SyncerFactory"/>).</summary>
    public IItemSyncer? Syncer { get; set; }

    /// <summary>Builds the syncer once the actor system exists (when <see cref="Syncer"/> is not set). With neither, items are
    /// stored and served but never refreshed. <b>Default</b>: <c>null</c>.</summary>
    public Func<ActorSystem, IItemSyncer>? SyncerFactory { get; set; }

    /// <summary>
    /// Where items are kept. <b>Default</b>: <c>null</c>, the library's store chosen by <c>akka.write-behind.storage.provider</c>:
    /// the table <c>refresh_items</c> in the SQLite file of <c>storage.sqlite</c> or in the PostgreSQL database of <c>storage.postgres</c>.
    /// </summary>
    public IRefreshItemStore? Store { get; set; }

    /// <summary>How often each node refreshes its items. <b>Default</b>: 10s.</summary>
    public TimeSpan? ResyncPeriod { get; set; }

    /// <summary>Items synced per second. <b>Default</b>: 100.</summary>
    public int? Tps { get; set; }

    /// <summary>Whose budget <see cref="Tps"/> is. <b>Default</b>: <see cref="Refresh.TpsScope.Node"/>.</summary>
    public TpsScope? TpsScope { get; set; }

    /// <summary>Items synced back to back above the rate after a quiet spell. <b>Default</b>: 10.</summary>
    public int? Burst { get; set; }

    /// <summary>Most items per syncer call. <b>Default</b>: 10.</summary>
    public int? BatchSize { get; set; }

    /// <summary>Syncer calls in flight per node. <b>Default</b>: 4.</summary>
    public int? Parallelism { get; set; }

    /// <summary>Longest one syncer call may take. <b>Default</b>: 30s.</summary>
    public TimeSpan? SyncTimeout { get; set; }

    /// <summary>Whether a new item is synced at once. <b>Default</b>: on.</summary>
    public bool? SyncOnCreate { get; set; }

    /// <summary>Items refreshed on one node at most (least recently used evicted). <b>Default</b>: 100,000.</summary>
    public int? MaxItemsPerNode { get; set; }

    /// <summary>Most item writes in one store transaction (<c>store-writer.batch-size</c>). <b>Default</b>: 500.</summary>
    public int? StoreWriterBatchSize { get; set; }

    /// <summary>Longest an item write waits for its group to fill (<c>store-writer.batch-delay</c>). <b>Default</b>: 5ms.</summary>
    public TimeSpan? StoreWriterBatchDelay { get; set; }

    /// <summary>Store transactions of item writes at the same time per node (<c>store-writer.parallelism</c>). <b>Default</b>: 2.</summary>
    public int? StoreWriterParallelism { get; set; }

    /// <summary>Item writes queued at most per node (<c>store-writer.buffer-size</c>). <b>Default</b>: 10,000.</summary>
    public int? StoreWriterBufferSize { get; set; }

    /// <summary>
    /// The cache's shard type name (<c>type-name</c>): the name of its shard region, the prefix of its actors and metrics,
    /// and the source of its table (see <see cref="TableName"/>). Each cache on an actor system needs its own;
    /// <c>WithWriteBehindRefresh&lt;TKey&gt;</c> requires it. <b>Default</b>: <c>write-behind-refresh</c>.
    /// </summary>
    public string? TypeName { get; set; }

    /// <summary>
    /// The table of the items in the library's store (used only when <see cref="Store"/> is <c>null</c>). <b>Default</b>:
    /// <c>refresh_items</c> for the type name <c>write-behind-refresh</c>, else <c>refresh_items_</c> and the type name
    /// (see <see cref="RefreshTables.DerivedFrom"/>).
    /// </summary>
    public string? TableName { get; set; }

    /// <summary>
    /// The cluster role of the members that host and refresh the items, as Akka.Cluster.Hosting's <c>ShardOptions.Role</c>:
    /// a member without it only routes commands to them. <b>Default</b>: <c>null</c>, every member.
    /// </summary>
    public string? Role { get; set; }

    /// <summary>Shards of the item region; a proxy must use the hosting members' count. <b>Default</b>: 100.</summary>
    public int? NumberOfShards { get; set; }

    /// <summary>Renders the set options as HOCON under <c>akka.write-behind.refresh</c>.</summary>
    public Config ToHocon()
    {
        const string r = RefreshSettings.ConfigPath + ".";
        return new HoconText()
            .Add(r + RefreshSettings.Keys.TypeName, TypeName is null ? null : HoconText.Quote(TypeName))
            .Add(r + RefreshSettings.Keys.NumberOfShards, NumberOfShards)
            .Add(r + RefreshSettings.Keys.ResyncPeriod, ResyncPeriod)
            .Add(r + RefreshSettings.Keys.Tps, Tps)
            .Add(r + RefreshSettings.Keys.TpsScope, TpsScope?.ToString().ToLowerInvariant())
            .Add(r + RefreshSettings.Keys.Burst, Burst)
            .Add(r + RefreshSettings.Keys.BatchSize, BatchSize)
            .Add(r + RefreshSettings.Keys.Parallelism, Parallelism)
            .Add(r + RefreshSettings.Keys.SyncTimeout, SyncTimeout)
            .Add(r + RefreshSettings.Keys.SyncOnCreate, SyncOnCreate)
            .Add(r + RefreshSettings.Keys.MaxItemsPerNode, MaxItemsPerNode)
            .Add(r + RefreshSettings.Keys.WriterBatchSize, StoreWriterBatchSize)
            .Add(r + RefreshSettings.Keys.WriterBatchDelay, StoreWriterBatchDelay)
            .Add(r + RefreshSettings.Keys.WriterParallelism, StoreWriterParallelism)
            .Add(r + RefreshSettings.Keys.WriterBufferSize, StoreWriterBufferSize)
            .ToConfig();
    }
}
