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
            var store = options.Store;
            if (store is null)
            {
                // the library's own store lives as long as the actor system (a PostgreSQL store holds a connection pool)
                store = CounterStores.FromConfig(system.Settings.Config);
                if (store is IDisposable disposable)
                    system.RegisterOnTermination(disposable.Dispose);
            }

            var counters = await WriteBehindCounters.StartAsync(system, store).ConfigureAwait(false);
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
