using System.Collections.Concurrent;
using Akka.Actor;

namespace Akka.WriteBehind.Batches;

/// <summary>
/// INTERNAL API
/// <para>The batch processors started on one actor system, one per resource type (an Akka extension, so it lives and dies with the system).</para>
/// </summary>
internal sealed class BatchProcessorRegistry : IExtension
{
    private readonly ConcurrentDictionary<Type, object> _processors = new();

    public static BatchProcessorRegistry Get(ActorSystem system) => system.WithExtension<BatchProcessorRegistry, BatchProcessorRegistryProvider>();

    /// <summary>Reserves the slot of <typeparamref name="TResource"/>; false when a processor for it is started or starting.</summary>
    public bool TryReserve<TResource>() => _processors.TryAdd(typeof(TResource), Reserved.Instance);

    public void Release<TResource>() => _processors.TryRemove(typeof(TResource), out _);

    public void Set<TResource>(object processor) => _processors[typeof(TResource)] = processor;

    public object? Find<TResource>() =>
        _processors.TryGetValue(typeof(TResource), out var processor) && processor is not Reserved ? processor : null;

    private sealed class Reserved
    {
        public static readonly Reserved Instance = new();

        private Reserved()
        {
        }
    }
}

/// <summary>INTERNAL API</summary>
internal sealed class BatchProcessorRegistryProvider : ExtensionIdProvider<BatchProcessorRegistry>
{
    public override BatchProcessorRegistry CreateExtension(ExtendedActorSystem system) => new();
}
