using Akka.Actor;
using Akka.Configuration;
using Akka.WriteBehind.Batches;
using Akka.WriteBehind.Internal;

namespace Akka.WriteBehind.Hosting;

/// <summary>
/// Options of <see cref="WriteBehindBatchesHostingExtensions.WithWriteBehindBatches{TResource}(Akka.Hosting.AkkaConfigurationBuilder, WriteBehindBatchesOptions{TResource})"/>:
/// one batch resource type. <see cref="TypeName"/>, <see cref="Handler"/> and <see cref="Store"/> (or <see cref="StoreFactory"/>)
/// are required; every other property left <c>null</c> keeps the value of the application's HOCON
/// (<c>akka.write-behind.batches.types.&lt;type-name&gt;</c>, then <c>akka.write-behind.batches</c>), else the library default.
/// </summary>
/// <typeparam name="TResource">The resource type.</typeparam>
public sealed class WriteBehindBatchesOptions<TResource> where TResource : notnull
{
    /// <summary>The resource type's name: its shard region and HOCON section. Lower-case letters, digits and dashes. Required.</summary>
    public string? TypeName { get; set; }

    /// <summary>
    /// The cluster role of the members that host the type's entities, as Akka.Cluster.Hosting's <c>ShardOptions.Role</c>: a
    /// member without it runs the type's processor in front of a region that only routes, and loads or saves no resource of
    /// the type. <b>Default</b>: <c>null</c>, every member.
    /// </summary>
    public string? Role { get; set; }

    /// <summary>Applies operations to a resource. Required.</summary>
    public OperationHandler<TResource>? Handler { get; set; }

    /// <summary>Loads and saves the resources. Required unless <see cref="StoreFactory"/> is set.</summary>
    public IResourceStore<TResource>? Store { get; set; }

    /// <summary>Builds the store from the started actor system (for stores configured by HOCON); used when <see cref="Store"/> is <c>null</c>.</summary>
    public Func<ActorSystem, IResourceStore<TResource>>? StoreFactory { get; set; }

    /// <summary>A batch stays open at least this long. <b>Default</b>: 100ms.</summary>
    public TimeSpan? MinDuration { get; set; }

    /// <summary>Deadline for a batch's load and save together, from its opening. <b>Default</b>: 2 × <see cref="MinDuration"/>.</summary>
    public TimeSpan? MaxDuration { get; set; }

    /// <summary>A batch closes early once this many operations ran. <b>Default</b>: 10,000.</summary>
    public int? MaxOperations { get; set; }

    /// <summary>Close a batch once it has run every operation queued for its key, without waiting for <c>min-duration</c>
    /// (batches then grow with load). <b>Default</b>: <c>false</c> (the Go library's semantics).</summary>
    public bool? EarlyClose { get; set; }

    /// <summary>Hold the resource between batches until passivation (reloaded after a failed batch). <b>Default</b>: <c>false</c>.</summary>
    public bool? KeepLoaded { get; set; }

    /// <summary>Operations an entity queues for its next batch before callers get <see cref="ErrorCode.Saturated"/>. <b>Default</b>: 10,000.</summary>
    public int? MaxPending { get; set; }

    /// <summary>Keys of the type with queued operations on one node before operations for further keys get <see cref="ErrorCode.Saturated"/> (depth). <b>Default</b>: 100,000.</summary>
    public int? MaxActiveKeys { get; set; }

    /// <summary>Shards of the type's region. <b>Default</b>: 100.</summary>
    public int? NumberOfShards { get; set; }

    /// <summary>Idle time before an entity is passivated; <see cref="TimeSpan.Zero"/> disables. <b>Default</b>: 120s.</summary>
    public TimeSpan? PassivateIdleAfter { get; set; }

    /// <summary>Deadline <c>RunAsync</c> gives an operation to start running when the caller gives none. <b>Default</b>: 10s.</summary>
    public TimeSpan? OperationTimeout { get; set; }

    /// <summary>Operations a node's processor has waiting for answers before callers get <see cref="ErrorCode.Saturated"/>. <b>Default</b>: 10,000.</summary>
    public int? MaxInFlight { get; set; }

    /// <summary>How long a request id is remembered after its batch was saved (a repeat within it gets the first answer).
    /// <b>Default</b>: 10 minutes.</summary>
    public TimeSpan? IdempotencyWindow { get; set; }

    /// <summary>Request ids a node's entities of the type remember at most; beyond, new ids get <see cref="ErrorCode.Saturated"/>.
    /// <b>Default</b>: 1,000,000.</summary>
    public int? IdempotencyMaxRemembered { get; set; }

    /// <summary>Renders the set options as HOCON under <c>akka.write-behind.batches.types.&lt;type-name&gt;</c>.</summary>
    /// <exception cref="ConfigurationException"><see cref="TypeName"/> is not set.</exception>
    public Config ToHocon()
    {
        if (string.IsNullOrWhiteSpace(TypeName))
            throw new ConfigurationException($"{nameof(WriteBehindBatchesOptions<TResource>)}.{nameof(TypeName)} is required.");

        var p = BatchSettings.TypePath(TypeName) + ".";
        return new HoconText()
            .Add(p + BatchSettings.Keys.MinDuration, MinDuration)
            .Add(p + BatchSettings.Keys.MaxDuration, MaxDuration)
            .Add(p + BatchSettings.Keys.MaxOperations, MaxOperations)
            .Add(p + BatchSettings.Keys.EarlyClose, EarlyClose)
            .Add(p + BatchSettings.Keys.KeepLoaded, KeepLoaded)
            .Add(p + BatchSettings.Keys.MaxPending, MaxPending)
            .Add(p + BatchSettings.Keys.MaxActiveKeys, MaxActiveKeys)
            .Add(p + BatchSettings.Keys.NumberOfShards, NumberOfShards)
            .AddDurationOrOff(p + BatchSettings.Keys.PassivateIdleAfter, PassivateIdleAfter)
            .Add(p + BatchSettings.Keys.OperationTimeout, OperationTimeout)
            .Add(p + BatchSettings.Keys.MaxInFlight, MaxInFlight)
            .Add(p + BatchSettings.Keys.IdempotencyWindow, IdempotencyWindow)
            .Add(p + BatchSettings.Keys.IdempotencyMaxRemembered, IdempotencyMaxRemembered)
            .ToConfig();
    }
}
