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
            var settings = RefreshSettings.Create(system);
            var store = options.Store ?? KeyedSets.Owned(system,
                RefreshItemStores.FromConfig(system.Settings.Config, options.TableName ?? RefreshTables.DerivedFrom(settings.TypeName)));
            var syncer = options.Syncer ?? options.SyncerFactory?.Invoke(system);
            var refresh = await WriteBehindRefresh.StartAsync(system, store, syncer, settings, options.Role)
                .ConfigureAwait(false);
            registry.Register<RefreshRegion>(refresh.Region);
        });
        return builder;
    }

    /// <summary>
    /// Starts a refresh cache of its own under the key <typeparamref name="TKey"/>, next to the default cache and to other
    /// keyed caches, as Akka.Cluster.Hosting's <c>WithShardRegion&lt;TKey&gt;</c>: its entry point is registered as
    /// <c>IRequiredActor&lt;TKey&gt;</c>, the cache is <c>RefreshSets.Get(system).Get&lt;TKey&gt;()</c>. It has its own shard
    /// type name (<see cref="WriteBehindRefreshOptions.TypeName"/>, required), item table, actors and metrics; items live and
    /// are refreshed only on members with <see cref="WriteBehindRefreshOptions.Role"/> when it is set. Unlike the default
    /// cache's, these options are not added to the application's HOCON: they apply to this cache alone.
    /// </summary>
    /// <typeparam name="TKey">The cache's key: an empty marker class of the application.</typeparam>
    /// <param name="builder">The builder.</param>
    /// <param name="options">The cache's syncer, store and settings; <see cref="WriteBehindRefreshOptions.TypeName"/> is required.</param>
    /// <returns>The same builder.</returns>
    /// <exception cref="ArgumentException">No type name.</exception>
    /// <exception cref="DuplicateSetException">At start-up: the key or the type name is already taken on the actor system.</exception>
    public static AkkaConfigurationBuilder WithWriteBehindRefresh<TKey>(this AkkaConfigurationBuilder builder,
        WriteBehindRefreshOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        KeyedSets.RequireTypeName(options.TypeName, "WriteBehindRefreshOptions.TypeName", nameof(options));
        builder.AddHocon(WriteBehindConfig.DefaultConfig(), HoconAddMode.Append);
        builder.WithActors(async (system, registry) =>
        {
            var config = KeyedSets.SetConfig(system, options.ToHocon());
            var settings = RefreshSettings.FromConfig(config.GetConfig(RefreshSettings.ConfigPath));
            var store = options.Store ?? KeyedSets.Owned(system,
                RefreshItemStores.FromConfig(config, options.TableName ?? RefreshTables.DerivedFrom(settings.TypeName)));
            var syncer = options.Syncer ?? options.SyncerFactory?.Invoke(system);
            var refresh = await WriteBehindRefresh.StartSetAsync(system, store, syncer, settings, options.Role, typeof(TKey))
                .ConfigureAwait(false);
            registry.Register<TKey>(refresh.Region);
        });
        return builder;
    }

    /// <summary>Starts a keyed refresh cache configured by <paramref name="configure"/>; see <see cref="WithWriteBehindRefresh{TKey}(AkkaConfigurationBuilder, WriteBehindRefreshOptions)"/>.</summary>
    /// <typeparam name="TKey">The cache's key.</typeparam>
    /// <param name="builder">The builder.</param>
    /// <param name="configure">Sets the options; it must set <see cref="WriteBehindRefreshOptions.TypeName"/>.</param>
    /// <returns>The same builder.</returns>
    public static AkkaConfigurationBuilder WithWriteBehindRefresh<TKey>(this AkkaConfigurationBuilder builder,
        Action<WriteBehindRefreshOptions> configure)
    {
        var options = new WriteBehindRefreshOptions();
        configure(options);
        return builder.WithWriteBehindRefresh<TKey>(options);
    }

    /// <summary>
    /// Reaches the refresh cache <paramref name="typeName"/> whose items live on the members with <paramref name="role"/>,
    /// hosting and refreshing none of them here, as Akka.Cluster.Hosting's <c>WithShardRegionProxy&lt;TKey&gt;</c>: commands
    /// sent to <c>IRequiredActor&lt;TKey&gt;</c> are validated here and answered by the items there.
    /// </summary>
    /// <typeparam name="TKey">The cache's key on this node.</typeparam>
    /// <param name="builder">The builder.</param>
    /// <param name="typeName">The cache's shard type name on the hosting members.</param>
    /// <param name="role">The role of the hosting members; <c>null</c>: any member.</param>
    /// <param name="numberOfShards">The hosting members' <see cref="WriteBehindRefreshOptions.NumberOfShards"/>.
    /// <b>Default</b>: <c>null</c>, the application's HOCON (100 by default).</param>
    /// <returns>The same builder.</returns>
    /// <exception cref="ArgumentException">No type name.</exception>
    /// <exception cref="DuplicateSetException">At start-up: the key or the type name is already taken on the actor system.</exception>
    public static AkkaConfigurationBuilder WithWriteBehindRefreshProxy<TKey>(this AkkaConfigurationBuilder builder, string typeName,
        string? role, int? numberOfShards = null)
    {
        KeyedSets.RequireTypeName(typeName, "typeName", nameof(typeName));
        builder.AddHocon(WriteBehindConfig.DefaultConfig(), HoconAddMode.Append);
        builder.WithActors(async (system, registry) =>
        {
            var options = new WriteBehindRefreshOptions { TypeName = typeName, NumberOfShards = numberOfShards };
            var config = KeyedSets.SetConfig(system, options.ToHocon());
            var settings = RefreshSettings.FromConfig(config.GetConfig(RefreshSettings.ConfigPath));
            var refresh = await WriteBehindRefresh.StartProxySetAsync(system, settings, role, typeof(TKey)).ConfigureAwait(false);
            registry.Register<TKey>(refresh.Region);
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
