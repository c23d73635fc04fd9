using Akka.Actor;
using Akka.Hosting;
using Akka.WriteBehind.Batches;

namespace Akka.WriteBehind.Hosting;

/// <summary><see cref="AkkaConfigurationBuilder"/> extensions that add batch resource types to an Akka.Hosting application.</summary>
public static class WriteBehindBatchesHostingExtensions
{
    /// <summary>
    /// Starts the batch resource type of <paramref name="options"/> on this node: its store is initialized, its shard region
    /// started and registered as <see cref="BatchRegion{TResource}"/> (<c>IRequiredActor&lt;BatchRegion&lt;TResource&gt;&gt;</c>),
    /// and its <see cref="BatchProcessor{TResource}"/> made available (<see cref="GetProcessorAsync{TResource}"/>,
    /// <see cref="WriteBehindBatches.Processor{TResource}"/>). The node must be a cluster member (<c>WithClustering</c>).
    /// Options are rendered to HOCON and take precedence over the application's HOCON; the library defaults are appended.
    /// </summary>
    /// <param name="builder">The builder.</param>
    /// <param name="options">The resource type: name, handler, store, settings.</param>
    /// <typeparam name="TResource">The resource type.</typeparam>
    /// <returns>The same builder.</returns>
    /// <exception cref="ArgumentException">The name, the handler or the store is missing.</exception>
    public static AkkaConfigurationBuilder WithWriteBehindBatches<TResource>(this AkkaConfigurationBuilder builder, WriteBehindBatchesOptions<TResource> options)
        where TResource : notnull
    {
        ArgumentNullException.ThrowIfNull(options);
        var typeName = string.IsNullOrWhiteSpace(options.TypeName)
            ? throw new ArgumentException("TypeName is required.", nameof(options))
            : options.TypeName;
        var handler = options.Handler ?? throw new ArgumentException("Handler is required.", nameof(options));
        if (options.Store is null && options.StoreFactory is null)
            throw new ArgumentException("Store or StoreFactory is required.", nameof(options));

        builder.AddHocon(options.ToHocon(), HoconAddMode.Prepend);
        builder.AddHocon(WriteBehindConfig.DefaultConfig(), HoconAddMode.Append);
        builder.WithActors(async (system, registry) =>
        {
            var store = options.Store ?? options.StoreFactory!(system);
            var processor = await WriteBehindBatches.StartAsync(system, BatchSettings.Create(system, typeName), store, handler, options.Role)
                .ConfigureAwait(false);
            registry.Register<BatchRegion<TResource>>(processor.ShardRegion);
        });
        return builder;
    }

    /// <summary>Starts a batch resource type configured by <paramref name="configure"/>; see <see cref="WithWriteBehindBatches{TResource}(AkkaConfigurationBuilder, WriteBehindBatchesOptions{TResource})"/>.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="configure">Sets the options.</param>
    /// <typeparam name="TResource">The resource type.</typeparam>
    /// <returns>The same builder.</returns>
    public static AkkaConfigurationBuilder WithWriteBehindBatches<TResource>(this AkkaConfigurationBuilder builder, Action<WriteBehindBatchesOptions<TResource>> configure)
        where TResource : notnull
    {
        var options = new WriteBehindBatchesOptions<TResource>();
        configure(options);
        return builder.WithWriteBehindBatches(options);
    }

    /// <summary>The processor of the resource type, once it is started on this node (waits for its registration).</summary>
    /// <param name="region">The registry entry, from dependency injection.</param>
    /// <param name="system">The actor system.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <typeparam name="TResource">The resource type.</typeparam>
    public static async Task<BatchProcessor<TResource>> GetProcessorAsync<TResource>(
        this IRequiredActor<BatchRegion<TResource>> region, ActorSystem system, CancellationToken cancellationToken = default) where TResource : notnull
    {
        await region.GetAsync(cancellationToken).ConfigureAwait(false);
        return WriteBehindBatches.Processor<TResource>(system);
    }
}
