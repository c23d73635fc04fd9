using Akka.Actor;
using Akka.Hosting;
using Akka.WriteBehind.Counters;
using Akka.WriteBehind.Sql;

namespace Akka.WriteBehind.Hosting;

/// <summary><see cref="AkkaConfigurationBuilder"/> extensions that add Akka.WriteBehind to an Akka.Hosting application.</summary>
public static class WriteBehindHostingExtensions
{
    /// <summary>
    /// Starts write-behind counters on this node: the store writer, the counter shard region and its flow-controlled entry
    /// point, registered as <see cref="CounterRegion"/> (<c>IRequiredActor&lt;CounterRegion&gt;</c>). The node must be a
    /// cluster member (<c>WithClustering</c>). Options are rendered to HOCON and take precedence over the application's HOCON;
    /// the library defaults are appended.
    /// </summary>
    /// <param name="builder">The builder.</param>
    /// <param name="options">The options; <b>Default</b>: all defaults, SQLite under <c>./data</c>.</param>
    /// <returns>The same builder.</returns>
    /// <exception cref="ArgumentException">Journal durability on <see cref="StorageProvider.Postgres"/> without a
    /// <see cref="WriteBehindCountersOptions.ConnectionString"/>.</exception>
    public static AkkaConfigurationBuilder WithWriteBehindCounters(this AkkaConfigurationBuilder builder, WriteBehindCountersOptions? options = null)
    {
        options ??= new WriteBehindCountersOptions();
        builder.AddHocon(options.ToHocon(), HoconAddMode.Prepend);
        builder.AddHocon(WriteBehindConfig.DefaultConfig(), HoconAddMode.Append);
        if (options.Durability == CounterDurability.Journal)
            builder.AddHocon(JournalConfig(options), HoconAddMode.Append);
        builder.WithActors(async (system, registry) =>
        {
            var store = options.Store ?? KeyedSets.Owned(system, CounterStores.FromConfig(system.Settings.Config));
            var counters = await WriteBehindCounters.StartAsync(system, store, role: options.Role).ConfigureAwait(false);
            registry.Register<CounterRegion>(counters.Region);
        });
        return builder;
    }

    /// <summary>Starts write-behind counters configured by <paramref name="configure"/>; see <see cref="WithWriteBehindCounters(AkkaConfigurationBuilder, WriteBehindCountersOptions?)"/>.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="configure">Sets the options.</param>
    /// <returns>The same builder.</returns>
    public static AkkaConfigurationBuilder WithWriteBehindCounters(this AkkaConfigurationBuilder builder, Action<WriteBehindCountersOptions> configure)
    {
        var options = new WriteBehindCountersOptions();
        configure(options);
        return builder.WithWriteBehindCounters(options);
    }

    /// <summary>
    /// Starts a counter set of its own under the key <typeparamref name="TKey"/>, next to the default set and to other keyed
    /// sets, as Akka.Cluster.Hosting's <c>WithShardRegion&lt;TKey&gt;</c>: its entry point is registered as
    /// <c>IRequiredActor&lt;TKey&gt;</c>, its facade is <c>CounterSets.Get(system).Get&lt;TKey&gt;()</c>. The set has its own
    /// shard type name (<see cref="WriteBehindCountersOptions.TypeName"/>, required), table, actors, journal persistence ids
    /// and metrics; entities live only on members with <see cref="WriteBehindCountersOptions.Role"/> when it is set. Unlike
    /// the default set's, these options are not added to the application's HOCON: they apply to this set alone, over the
    /// <c>akka.write-behind.counters</c> section (and the library defaults) for what they leave <c>null</c>.
    /// </summary>
    /// <typeparam name="TKey">The set's key: an empty marker class of the application.</typeparam>
    /// <param name="builder">The builder.</param>
    /// <param name="options">The set's options; <see cref="WriteBehindCountersOptions.TypeName"/> is required.</param>
    /// <returns>The same builder.</returns>
    /// <exception cref="ArgumentException">No type name, or journal durability on PostgreSQL without a connection string.</exception>
    /// <exception cref="DuplicateSetException">At start-up: the key or the type name is already taken on the actor system.</exception>
    public static AkkaConfigurationBuilder WithWriteBehindCounters<TKey>(this AkkaConfigurationBuilder builder,
        WriteBehindCountersOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        KeyedSets.RequireTypeName(options.TypeName, "WriteBehindCountersOptions.TypeName", nameof(options));
        builder.AddHocon(WriteBehindConfig.DefaultConfig(), HoconAddMode.Append);
        if (options.Durability == CounterDurability.Journal)
            builder.AddHocon(JournalConfig(options), HoconAddMode.Append);
        builder.WithActors(async (system, registry) =>
        {
            var config = KeyedSets.SetConfig(system, options.ToHocon());
            var store = options.Store ?? KeyedSets.Owned(system, CounterStores.FromConfig(config));
            var settings = CounterSettings.FromConfig(config.GetConfig(CounterSettings.ConfigPath));
            var counters = await WriteBehindCounters.StartSetAsync(system, store, settings, options.Role, typeof(TKey))
                .ConfigureAwait(false);
            registry.Register<TKey>(counters.Region);
        });
        return builder;
    }

    /// <summary>Starts a keyed counter set configured by <paramref name="configure"/>; see <see cref="WithWriteBehindCounters{TKey}(AkkaConfigurationBuilder, WriteBehindCountersOptions)"/>.</summary>
    /// <typeparam name="TKey">The set's key.</typeparam>
    /// <param name="builder">The builder.</param>
    /// <param name="configure">Sets the options; it must set <see cref="WriteBehindCountersOptions.TypeName"/>.</param>
    /// <returns>The same builder.</returns>
    public static AkkaConfigurationBuilder WithWriteBehindCounters<TKey>(this AkkaConfigurationBuilder builder,
        Action<WriteBehindCountersOptions> configure)
    {
        var options = new WriteBehindCountersOptions();
        configure(options);
        return builder.WithWriteBehindCounters<TKey>(options);
    }

    /// <summary>
    /// Reaches the counter set <paramref name="typeName"/> whose entities live on the members with <paramref name="role"/>,
    /// hosting none of them here, as Akka.Cluster.Hosting's <c>WithShardRegionProxy&lt;TKey&gt;</c>. Registered like a
    /// hosted keyed set (<c>IRequiredActor&lt;TKey&gt;</c>, <c>CounterSets.Get(system).Get&lt;TKey&gt;()</c>) with the same
    /// facade: this node's fast path and ingest stage aggregate and flow-control its increments before they cross the network
    /// to the set's entities; reads and flushes are answered by the entities there. The store, durability and journal are
    /// the hosting members'.
    /// </summary>
    /// <typeparam name="TKey">The set's key on this node.</typeparam>
    /// <param name="builder">The builder.</param>
    /// <param name="typeName">The set's shard type name on the hosting members.</param>
    /// <param name="role">The role of the hosting members; <c>null</c>: any member.</param>
    /// <param name="options">The ingest stage's options and <see cref="WriteBehindCountersOptions.NumberOfShards"/>, which
    /// must be the hosting members'; the other options do not apply here. <b>Default</b>: the application's HOCON.</param>
    /// <returns>The same builder.</returns>
    /// <exception cref="ArgumentException">No type name.</exception>
    /// <exception cref="DuplicateSetException">At start-up: the key or the type name is already taken on the actor system.</exception>
    public static AkkaConfigurationBuilder WithWriteBehindCountersProxy<TKey>(this AkkaConfigurationBuilder builder, string typeName,
        string? role, WriteBehindCountersOptions? options = null)
    {
        KeyedSets.RequireTypeName(typeName, "typeName", nameof(typeName));
        options ??= new WriteBehindCountersOptions();
        builder.AddHocon(WriteBehindConfig.DefaultConfig(), HoconAddMode.Append);
        builder.WithActors(async (system, registry) =>
        {
            var config = KeyedSets.SetConfig(system, options.ToHocon());
            var settings = CounterSettings.FromConfig(config.GetConfig(CounterSettings.ConfigPath)) with { TypeName = typeName };
            var counters = await WriteBehindCounters.StartProxySetAsync(system, settings, role, typeof(TKey))
                .ConfigureAwait(false);
            registry.Register<TKey>(counters.Region);
        });
        return builder;
    }

    // the journal's fallback configuration, next to the chosen store
    private static Akka.Configuration.Config JournalConfig(WriteBehindCountersOptions options)
    {
        if (options.StorageProvider != StorageProvider.Postgres)
            return JournalDurability.Config(Path.Combine(options.SqliteDataDir ?? "data", "journal.db"));
        if (string.IsNullOrWhiteSpace(options.ConnectionString))
            throw new ArgumentException("Journal durability on PostgreSQL needs WriteBehindCountersOptions.ConnectionString (the journal uses the same database).",
                nameof(options));
        return JournalDurability.PostgresConfig(options.ConnectionString);
    }
}
