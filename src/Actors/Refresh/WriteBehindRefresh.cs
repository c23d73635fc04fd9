using Akka.Actor;
using Akka.Pattern;
using Akka.WriteBehind.Internal;

namespace Akka.WriteBehind.Refresh;

/// <summary>The running actors of a refresh cache on one node.</summary>
/// <param name="Region">The entry point (<see cref="RefreshRegion"/>): send <see cref="IRefreshCommand"/>s here.</param>
/// <param name="ShardRegion">The item shard region behind it. Messages sent here directly bypass validation.</param>
/// <param name="Supervisor">This node's refresh supervisor (a <see cref="Akka.Pattern.BackoffSupervisor"/> in front of it);
/// <see cref="ActorRefs.Nobody"/> on a node that only reaches the cache (<see cref="WriteBehindRefresh.StartProxyAsync"/>).</param>
/// <param name="Settings">The settings in force.</param>
public sealed record RefreshSet(IActorRef Region, IActorRef ShardRegion, IActorRef Supervisor, RefreshSettings Settings);

/// <summary>
/// Starts the refresh cache (flyte's AutoRefreshCache on cluster sharding) on an actor system that is a cluster member.
/// Akka.Hosting users call <c>WithWriteBehindRefresh</c> instead, which calls this.
/// </summary>
public static class WriteBehindRefresh
{
    /// <summary>
    /// Initializes <paramref name="store"/>, starts this node's refresh supervisor (under a back-off supervisor), its store writer
    /// (item writes grouped into transactions, <c>store-writer</c>), the item shard
    /// region (state-store-mode ddata, no idle passivation: items not refreshed passivate themselves), the validating entry
    /// point and the wake-up that restarts stored items after a node start or a member's departure.
    /// </summary>
    /// <param name="system">An actor system with <c>akka.actor.provider = cluster</c>.</param>
    /// <param name="store">Where items are kept (<see cref="RefreshItemStores.FromConfig"/> builds the library's).</param>
    /// <param name="syncer">Fetches the items' truth; <c>null</c>: items are stored and served but never refreshed.</param>
    /// <param name="settings">The settings; <b>Default</b>: read from <c>akka.write-behind.refresh</c> with the library defaults as fallback.</param>
    /// <param name="role">The cluster role of the members that host the items (as <c>ShardOptions.Role</c>): on a member
    /// without it the region only routes, and no item lives or is refreshed there. <b>Default</b>: <c>null</c>, every member.</param>
    /// <exception cref="DuplicateSetException">A cache with <see cref="RefreshSettings.TypeName"/> was already started on
    /// <paramref name="system"/>.</exception>
    public static Task<RefreshSet> StartAsync(ActorSystem system, IRefreshItemStore store, IItemSyncer? syncer,
        RefreshSettings? settings = null, string? role = null)
    {
        var resolved = settings ?? RefreshSettings.Create(system);
        return StartSetAsync(system, store, syncer, resolved, role, key: null);
    }

    /// <summary>
    /// Starts the validating entry point of a refresh cache whose items live on the members with <paramref name="role"/>,
    /// in front of a shard region proxy: this node hosts, refreshes and stores no item (no supervisor, store writer or wake-up
    /// runs here); commands are validated here and answered by the items there.
    /// </summary>
    /// <param name="system">An actor system with <c>akka.actor.provider = cluster</c>.</param>
    /// <param name="settings">The settings; the type name and <see cref="RefreshSettings.NumberOfShards"/> must be those of
    /// the hosting members. <b>Default</b>: read from <c>akka.write-behind.refresh</c>.</param>
    /// <param name="role">The role of the members that host the cache (<c>null</c>: any member).</param>
    /// <exception cref="DuplicateSetException">A cache with <see cref="RefreshSettings.TypeName"/> was already started on
    /// <paramref name="system"/>.</exception>
    public static Task<RefreshSet> StartProxyAsync(ActorSystem system, RefreshSettings? settings = null, string? role = null)
    {
        var resolved = settings ?? RefreshSettings.Create(system);
        return StartProxySetAsync(system, resolved, role, key: null);
    }

    /// <summary>INTERNAL API: <see cref="StartAsync"/> under a registry key (see <see cref="RefreshSets.Get{TKey}"/>).</summary>
    internal static Task<RefreshSet> StartSetAsync(ActorSystem system, IRefreshItemStore store, IItemSyncer? syncer,
        RefreshSettings settings, string? role, Type? key) =>
        RefreshSets.Get(system).StartAsync(settings.TypeName, key, () => StartHostingAsync(system, store, syncer, settings, role));

    /// <summary>INTERNAL API: <see cref="StartProxyAsync"/> under a registry key.</summary>
    internal static Task<RefreshSet> StartProxySetAsync(ActorSystem system, RefreshSettings settings, string? role, Type? key) =>
        RefreshSets.Get(system).StartAsync(settings.TypeName, key, async () =>
        {
            var proxy = await EntityRegions.StartProxyAsync(system, settings.TypeName, role, settings.NumberOfShards)
                .ConfigureAwait(false);
            var front = system.ActorOf(RefreshFrontActor.Props(proxy), $"{settings.TypeName}-front");
            return new RefreshSet(front, proxy, ActorRefs.Nobody, settings);
        });

    private static async Task<RefreshSet> StartHostingAsync(ActorSystem system, IRefreshItemStore store, IItemSyncer? syncer,
        RefreshSettings settings, string? role)
    {
        await store.InitializeAsync().ConfigureAwait(false);

        var ledger = new RefreshLedger(settings.TypeName);
        RefreshMetrics.Register(ledger);
        system.RegisterOnTermination(() => RefreshMetrics.Unregister(ledger));

        // every failure restarts it after a back-off (the default decider would stop it for good on ActorKilledException);
        // its entities see it die and track their items again
        var supervisor = system.ActorOf(BackoffSupervisor.Props(
            Backoff.OnFailure(RefreshSupervisorActor.Props(settings, syncer, ledger), "supervisor",
                    settings.Retry.MinBackoff, settings.Retry.MaxBackoff, settings.Retry.RandomFactor, -1)
                .WithSupervisorStrategy(new OneForOneStrategy(_ => Directive.Restart))), $"{settings.TypeName}-supervisor");

        var writer = system.ActorOf(RefreshStoreWriterActor.Props(store, settings), $"{settings.TypeName}-store-writer");
        var region = await EntityRegions.StartAsync(system, settings.TypeName,
            id => RefreshItemActor.Props(id, settings, store, supervisor, writer),
            settings.NumberOfShards, passivateIdleAfter: null, StopItem.Instance, role: role).ConfigureAwait(false);

        var front = system.ActorOf(RefreshFrontActor.Props(region), $"{settings.TypeName}-front");
        system.ActorOf(RefreshWakeActor.Props(region, store, settings), $"{settings.TypeName}-wake");
        return new RefreshSet(front, region, supervisor, settings);
    }
}
