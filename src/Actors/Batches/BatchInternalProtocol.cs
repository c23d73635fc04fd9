using Akka.Actor;

namespace Akka.WriteBehind.Batches;

/// <summary>INTERNAL API: hand-off / passivation stop message of batch entities: finish (save) the open batch, then stop.</summary>
internal sealed class StopBatchEntity
{
    public static readonly StopBatchEntity Instance = new();

    private StopBatchEntity()
    {
    }
}

/// <summary>
/// INTERNAL API: a batch entity's periodic look at how long it has been idle (<c>passivate-idle-after</c>). The entity
/// keeps its own idle time, not the shard: sharding's idle passivation stamps every message it delivers (a dictionary write
/// and a clock read per operation), where an entity knows when its last batch ended for free. A local timer message.
/// </summary>
internal sealed class PassivateIfIdle
{
    public static readonly PassivateIfIdle Instance = new();

    private PassivateIfIdle()
    {
    }
}

/// <summary>INTERNAL API: the load of batch <see cref="BatchId"/> returned <see cref="Resource"/>. Node-local.</summary>
internal sealed record ResourceLoaded<TResource>(long BatchId, TResource Resource, TimeSpan Duration) : INoSerializationVerificationNeeded
{
    /// <summary>The key's remembered requests, when the load asked for them (<see cref="LoadResource.WithRequests"/>).</summary>
    public IReadOnlyList<RememberedRequest>? Requests { get; init; }
}

/// <summary>INTERNAL API: the load of batch <see cref="BatchId"/> failed (<see cref="TimedOut"/>: cancelled at max-duration). Node-local.</summary>
internal sealed record ResourceLoadFailed(long BatchId, string Reason, TimeSpan Duration, bool TimedOut) : INoSerializationVerificationNeeded;

/// <summary>INTERNAL API: an entity asks the node's store writer to load its batch's resource; the reply is
/// <see cref="ResourceLoaded{TResource}"/> or <see cref="ResourceLoadFailed"/>. Node-local.</summary>
/// <param name="Key">The resource's key.</param>
/// <param name="BatchId">The entity's batch.</param>
/// <param name="Deadline">The batch's max-duration deadline as a <see cref="System.Diagnostics.Stopwatch"/> timestamp.</param>
/// <param name="WithRequests">Load the key's remembered requests too (the entity's first load from a store that keeps them).</param>
internal sealed record LoadResource(string Key, long BatchId, long Deadline, bool WithRequests = false) : INoSerializationVerificationNeeded;

/// <summary>INTERNAL API: an entity asks the node's store writer to save its batch; the reply is <see cref="ResourceSaved{TResource}"/> or <see cref="ResourceSaveFailed"/>. Node-local.</summary>
/// <param name="Key">The resource's key.</param>
/// <param name="BatchId">The entity's batch.</param>
/// <param name="Resource">The resource to save.</param>
/// <param name="Deadline">The batch's max-duration deadline as a <see cref="System.Diagnostics.Stopwatch"/> timestamp.</param>
/// <param name="Requests">The request ids of the batch's operations, saved with the resource by a store that keeps them.</param>
internal sealed record SaveResource<TResource>(string Key, long BatchId, TResource Resource, long Deadline,
    IReadOnlyList<RememberedRequest> Requests) : INoSerializationVerificationNeeded;

/// <summary>INTERNAL API: the save of batch <see cref="BatchId"/> committed; <see cref="Stored"/> is the resource as stored. Node-local.</summary>
internal sealed record ResourceSaved<TResource>(long BatchId, TResource Stored) : INoSerializationVerificationNeeded;

/// <summary>INTERNAL API: the save of batch <see cref="BatchId"/> did not commit (<see cref="TimedOut"/>: cancelled at max-duration). Node-local.</summary>
internal sealed record ResourceSaveFailed(long BatchId, string Reason, bool TimedOut) : INoSerializationVerificationNeeded;
