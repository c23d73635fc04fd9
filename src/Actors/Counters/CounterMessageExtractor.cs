using Akka.Cluster.Sharding;
using Akka.Util;

namespace Akka.WriteBehind.Counters;

/// <summary>
/// INTERNAL API
/// <para>
/// Routes counter commands to the entity named by their key, in the shard given by the key's hash, and the shard log's
/// messages (<see cref="IShardJournalMessage"/>) to the shard log entity of the shard they name, so that the log lives,
/// hands off and moves with the counters it journals.
/// </para>
/// </summary>
internal sealed class CounterMessageExtractor : IMessageExtractor
{
    private readonly int _numberOfShards;

    public CounterMessageExtractor(int numberOfShards) => _numberOfShards = numberOfShards;

    public string? EntityId(object message) => message switch
    {
        IShardJournalMessage journal => ShardJournalActor.EntityIdOf(journal.ShardId),
        IWithKey withKey => withKey.Key,
        _ => null, // sharding's own messages (StartEntity, ShardingEnvelope) are handled before the extractor
    };

    public object? EntityMessage(object message) => message;

    public string ShardId(object message) => message switch
    {
        IShardJournalMessage journal => journal.ShardId,
        _ => EntityId(message) is { } id ? ShardId(id) : throw new ArgumentException($"no entity id in {message.GetType().Name}", nameof(message)),
    };

    public string ShardId(string entityId, object? messageHint = null) =>
        ShardJournalActor.TryShardOf(entityId, out var shardId) ? shardId : ShardOfKey(entityId);

    /// <summary>The shard of the counter <paramref name="key"/> (Akka's hash-code placement).</summary>
    public string ShardOfKey(string key) => (Math.Abs(MurmurHash.StringHash(key)) % _numberOfShards).ToString(System.Globalization.CultureInfo.InvariantCulture);
}
