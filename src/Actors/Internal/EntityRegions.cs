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
        TimeSpan? passivateIdleAfter, object handOffStopMessage, IMessageExtractor? extractor = null)
    {
        var sharding = ClusterSharding.Get(system);
        var settings = ClusterShardingSettings.Create(system)
            .WithStateStoreMode(StateStoreMode.DData)
            .WithRememberEntities(false)
            .WithPassivateIdleAfter(passivateIdleAfter ?? TimeSpan.Zero);
        return sharding.StartAsync(
            typeName,
            entityProps,
            settings,
            extractor ?? new KeyMessageExtractor(numberOfShards),
            sharding.DefaultShardAllocationStrategy(settings),
            handOffStopMessage);
    }
}
