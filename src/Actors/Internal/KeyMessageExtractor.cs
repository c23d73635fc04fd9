using Akka.Cluster.Sharding;

namespace Akka.WriteBehind.Internal;

/// <summary>
/// INTERNAL API
/// <para>Routes every <see cref="IWithKey"/> message to the entity named by its key.</para>
/// </summary>
internal sealed class KeyMessageExtractor : HashCodeMessageExtractor
{
    public KeyMessageExtractor(int maxNumberOfShards) : base(maxNumberOfShards)
    {
    }

    public override string? EntityId(object message) => message switch
    {
        IWithKey withKey => withKey.Key,
        _ => null,
    };
}
