using Akka.Actor;
using Akka.WriteBehind.Internal;
using Akka.WriteBehind.Queues;

namespace Akka.WriteBehind.Batches;

/// <summary>
/// Starts batch resource types on an actor system that is a cluster member. Akka.Hosting users call
/// <c>WithWriteBehindBatches</c> instead, which calls this.
/// </summary>
public static class WriteBehindBatches
{
    /// <summary>
    /// Name of the library's .NET <see cref="System.Diagnostics.Metrics.Meter"/> (<c>Akka.WriteBehind</c>), on which every batch
    /// is recorded: counters <c>akka.write_behind.batches.finished</c> and <c>.operations</c>, histograms (seconds)
    /// <c>.duration</c>, <c>.load_duration</c> and <c>.save_duration</c>, tagged <c>resource_type</c> and <c>outcome</c>.
    /// </summary>
    public const string MeterName = WriteBehindMeter.Name;

    /// <summary>
    /// Starts the resource type <paramref name="typeName"/> with the settings of <c>akka.write-behind.batches.types.&lt;typeName&gt;</c>
    /// (falling back to <c>akka.write-behind.batches</c> and the library defaults); see
    /// <see cref="StartAsync{TResource}(ActorSystem, BatchSettings, IResourceStore{TResource}, OperationHandler{TResource}, string?)"/>.
    /// </summary>
    /// <param name="system">An actor system with <c>akka.actor.provider = cluster</c>.</param>
    /// <param name="typeName">The resource type's name: lower-case letters, digits and dashes.</param>
    /// <param name="store">Loads and saves the resources.</param>
    /// <param name="handler">Applies operations to a resource.</param>
    /// <typeparam name="TResource">The resource type.</typeparam>
    public static Task<BatchProcessor<TResource>> StartAsync<TResource>(
        ActorSystem system, string typeName, IResourceStore<TResource> store, OperationHandler<TResource> handler) where TResource : notnull =>
        StartAsync(system, BatchSettings.Create(system, typeName), store, handler);

    /// <summary>
    /// Initializes <paramref name="store"/>, starts the node's store writer when the store can save many keys at once
    /// (<see cref="IBulkResourceStore{TResource}"/>), and the resource type's shard region (state-store-mode ddata, hand-off
    /// through a save-first stop message, idle passivation). One resource type per <typeparamref name="TResource"/> per actor
    /// system; every node of the cluster that hosts the type starts it with the same name.
    /// </summary>
    /// <param name="system">An actor system with <c>akka.actor.provider = cluster</c>.</param>
    /// <param name="settings">The settings (<see cref="BatchSettings.Create"/>).</param>
    /// <param name="store">Loads and saves the resources.</param>
    /// <param name="handler">Applies operations to a resource.</param>
    /// <typeparam name="TResource">The resource type.</typeparam>
    /// <param name="role">The cluster role of the members that host the type's entities (as <c>ShardOptions.Role</c>): on a
    /// member without it the region only routes, and no resource of the type is loaded or saved there.
    /// <b>Default</b>: <c>null</c>, every member.</param>
    /// <returns>The type's processor on this node.</returns>
    /// <exception cref="InvalidOperationException">A resource type for <typeparamref name="TResource"/> is already started on this system.</exception>
    public static async Task<BatchProcessor<TResource>> StartAsync<TResource>(
        ActorSystem system, BatchSettings settings, IResourceStore<TResource> store, OperationHandler<TResource> handler,
        string? role = null)
        where TResource : notnull
    {
        ArgumentNullException.ThrowIfNull(system);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(handler);

        var registry = BatchProcessorRegistry.Get(system);
        if (!registry.TryReserve<TResource>())
            throw new InvalidOperationException($"A batch resource type for {typeof(TResource).Name} is already started on actor system {system.Name}.");
        DeadlineTimer? deadlines = null;
        try
        {
            await store.InitializeAsync().ConfigureAwait(false);

            var queues = new QueueLedger(settings.TypeName, settings.MaxActiveKeys);
            InflightMetrics.Register(queues);
            system.RegisterOnTermination(() => InflightMetrics.Unregister(queues));

            var requests = new RequestLedger(settings.Idempotency.MaxRemembered);
            var writer = store is IBulkResourceStore<TResource> bulk
                ? system.ActorOf(ResourceStoreWriterActor<TResource>.Props(bulk, settings), $"{settings.TypeName}-store-writer")
                : null;

            deadlines = new DeadlineTimer($"{settings.TypeName}-deadlines");
            system.RegisterOnTermination(deadlines.Dispose);
            var metricsTap = new BatchMetricsTap();
            var region = await EntityRegions.StartAsync(system, settings.TypeName,
                key => BatchActor<TResource>.Props(key, settings, store, handler, writer, queues, requests, deadlines, metricsTap),
                // idle passivation is the entity's own (PassivateIfIdle): the shard's would stamp every operation it delivers
                settings.NumberOfShards, passivateIdleAfter: null, StopBatchEntity.Instance, role: role).ConfigureAwait(false);

            var ingest = new BatchIngest();
            // a timeout fires at most a quarter of the reply margin late (between 10 ms and 1 s)
            var sweep = TimeSpan.FromTicks(Math.Clamp(settings.ReplyTimeoutMargin.Ticks / 4, TimeSpan.TicksPerMillisecond * 10, TimeSpan.TicksPerSecond));
            var ingestActor = system.ActorOf(BatchIngestActor.Props(ingest, region, sweep), $"{settings.TypeName}-ingest");
            ingest.Drainer = ingestActor;
            var processor = new BatchProcessor<TResource>(system, region, settings) { Queues = queues, Requests = requests, Ingest = ingest, IngestActor = ingestActor, MetricsTap = metricsTap };
            registry.Set<TResource>(processor);
            return processor;
        }
        catch
        {
            deadlines?.Dispose();
            registry.Release<TResource>();
            throw;
        }
    }

    /// <summary>The processor of <typeparamref name="TResource"/> started on <paramref name="system"/>.</summary>
    /// <param name="system">The actor system.</param>
    /// <typeparam name="TResource">The resource type.</typeparam>
    /// <exception cref="InvalidOperationException">No resource type for <typeparamref name="TResource"/> is started (yet) on this system.</exception>
    public static BatchProcessor<TResource> Processor<TResource>(ActorSystem system) where TResource : notnull =>
        TryGetProcessor<TResource>(system, out var processor)
            ? processor
            : throw new InvalidOperationException($"No batch resource type for {typeof(TResource).Name} is started on actor system {system.Name}.");

    /// <summary>The processor of <typeparamref name="TResource"/> started on <paramref name="system"/>, if any.</summary>
    /// <param name="system">The actor system.</param>
    /// <param name="processor">The processor, or <c>null</c>.</param>
    /// <typeparam name="TResource">The resource type.</typeparam>
    public static bool TryGetProcessor<TResource>(ActorSystem system, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out BatchProcessor<TResource>? processor)
        where TResource : notnull
    {
        processor = BatchProcessorRegistry.Get(system).Find<TResource>() as BatchProcessor<TResource>;
        return processor is not null;
    }
}
