using Akka.Actor;
using Akka.Hosting;
using Akka.WriteBehind.Counters;
using Akka.WriteBehind.Storage;

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
    public static AkkaConfigurationBuilder WithWriteBehindCounters(this AkkaConfigurationBuilder builder, WriteBehindCountersOptions? options = null)
    {
        options ??= new WriteBehindCountersOptions();
        builder.AddHocon(options.ToHocon(), HoconAddMode.Prepend);
        builder.AddHocon(WriteBehindConfig.DefaultConfig(), HoconAddMode.Append);
        if (options.Durability == CounterDurability.Journal)
            builder.AddHocon(JournalDurability.Config(Path.Combine(options.SqliteDataDir ?? "data", "journal.db")), HoconAddMode.Append);
        builder.WithActors(async (system, registry) =>
        {
            var store = options.Store ?? SqliteStores.CounterStoreFromConfig(system.Settings.Config);
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
}
