using Akka.Actor;
using Akka.Cluster.Sharding;

namespace Akka.WriteBehind.Internal;

/// <summary>
/// INTERNAL API
/// <para>
/// Starts the shard region of one kind of write-behind entity, the same way for every kind: the coordinator's state in
/// distributed data (not the journal), no remember-entities (entities hold nothing they do not write before stopping),
/// idle passivation, routing by <see cref="IWithKey"/>, and a custom hand-off stop message so that an entity writes what
/// it holds before it stops.
/// </para>
/// </summary>
internal static class EntityRegions
{
    public static Task<IActorRef> StartAsync(ActorSystem system, string typeName, Func<string, Props> entityProps, int numberOfShards,
        TimeSpan? passivateIdleAfter, object handOffStopMessage, IMessageExtractor? extractor = null, string? role = null)
    {
        var sharding = ClusterSharding.Get(system);
        var settings = ClusterShardingSettings.Create(system)
            .WithStateStoreMode(StateStoreMode.DData)
            .WithRememberEntities(false)
            .WithPassivateIdleAfter(passivateIdleAfter ?? TimeSpan.Zero);
        // no role of its own: the region keeps akka.cluster.sharding.role
        if (!string.IsNullOrEmpty(role))
            settings = settings.WithRole(role);
        return sharding.StartAsync(
            typeName,
            entityProps,
            settings,
            extractor ?? new KeyMessageExtractor(numberOfShards),
            sharding.DefaultShardAllocationStrategy(settings),
            handOffStopMessage);
    }

    /// <summary>
    /// A region of <paramref name="typeName"/> that hosts no entity on this node: it routes to the regions of the members
    /// with <paramref name="role"/> (all members when <c>null</c>), which must use the same shard count.
    /// </summary>
    public static Task<IActorRef> StartProxyAsync(ActorSystem system, string typeName, string? role, int numberOfShards,
        IMessageExtractor? extractor = null) =>
        // sharding takes a null role as "any member" though its signature says otherwise
        ClusterSharding.Get(system).StartProxyAsync(typeName, string.IsNullOrEmpty(role) ? null! : role,
            extractor ?? new KeyMessageExtractor(numberOfShards));
}
