using Akka.Hosting;
using Akka.WriteBehind.Refresh;

namespace Akka.WriteBehind.Hosting;

/// <summary><see cref="AkkaConfigurationBuilder"/> extensions that add the refresh cache to an Akka.Hosting application.</summary>
public static class WriteBehindRefreshHostingExtensions
{
    /// <summary>
    /// Starts the refresh cache on this node (<see cref="WriteBehindRefresh.StartAsync"/>): its item store is initialized, the
    /// node's refresh supervisor, the item shard region and its validating entry point started, the entry point registered as
    /// <see cref="RefreshRegion"/> (<c>IRequiredActor&lt;RefreshRegion&gt;</c>). The node must be a cluster member
    /// (<c>WithClustering</c>). Options are rendered to HOCON and take precedence over the application's HOCON; the library
    /// defaults are appended.
    /// </summary>
    /// <param name="builder">The builder.</param>
    /// <param name="options">The syncer, the store and settings.</param>
    /// <returns>The same builder.</returns>
    public static AkkaConfigurationBuilder WithWriteBehindRefresh(this AkkaConfigurationBuilder builder, WriteBehindRefreshOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        builder.AddHocon(options.ToHocon(), HoconAddMode.Prepend);
        builder.AddHocon(WriteBehindConfig.DefaultConfig(), HoconAddMode.Append);
        builder.WithActors(async (system, registry) =>
        {
            var store = options.Store;
            if (store is null)
            {
                store = RefreshItemStores.FromConfig(system.Settings.Config);
                if (store is IDisposable disposable)
                    system.RegisterOnTermination(disposable.Dispose);
            }

            var syncer = options.Syncer ?? options.SyncerFactory?.Invoke(system);
            var refresh = await WriteBehindRefresh.StartAsync(system, store, syncer).ConfigureAwait(false);
            registry.Register<RefreshRegion>(refresh.Region);
        });
        return builder;
    }

    /// <summary>Starts the refresh cache configured by <paramref name="configure"/>; see <see cref="WithWriteBehindRefresh(AkkaConfigurationBuilder, WriteBehindRefreshOptions)"/>.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="configure">Sets the options.</param>
    /// <returns>The same builder.</returns>
    public static AkkaConfigurationBuilder WithWriteBehindRefresh(this AkkaConfigurationBuilder builder, Action<WriteBehindRefreshOptions> configure)
    {
        var options = new WriteBehindRefreshOptions();
        configure(options);
        return builder.WithWriteBehindRefresh(options);
    }
}
