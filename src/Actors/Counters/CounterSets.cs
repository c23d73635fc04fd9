using Akka.Actor;
using Akka.WriteBehind.Internal;

namespace Akka.WriteBehind.Counters;

/// <summary>
/// The counter sets started on an actor system, by type name (<c>akka.write-behind.counters.type-name</c>) and by registry
/// key: how code that did not start a set itself — an Akka.Hosting application, whose <c>WithWriteBehindCounters</c> starts
/// it — reaches its <see cref="CounterSet.FastPath"/>:
/// <code>CounterSets.Get(system).Default.Increment("page:home", 1);
/// CounterSets.Get(system).Get&lt;PageViews&gt;().Increment("page:home", 1); // WithWriteBehindCounters&lt;PageViews&gt;</code>
/// </summary>
public sealed class CounterSets : IExtension
{
    private readonly SetRegistry<CounterSet> _sets = new("counter set");
    private readonly string _defaultTypeName;

    internal CounterSets(string defaultTypeName) => _defaultTypeName = defaultTypeName;

    /// <summary>The counter sets of <paramref name="system"/>.</summary>
    /// <param name="system">The actor system.</param>
    public static CounterSets Get(ActorSystem system) => system.WithExtension<CounterSets, CounterSetsProvider>();

    /// <summary>The set whose type name is the configured <c>akka.write-behind.counters.type-name</c>.</summary>
    /// <exception cref="InvalidOperationException">No such set was started on this system (yet).</exception>
    public CounterSet Default => Find(_defaultTypeName)
        ?? throw new InvalidOperationException(
            $"no counter set '{_defaultTypeName}' was started on this actor system (WithWriteBehindCounters or WriteBehindCounters.StartAsync start it)");

    /// <summary>The set started with type name <paramref name="typeName"/>, or <c>null</c>.</summary>
    /// <param name="typeName">The set's shard type name.</param>
    public CounterSet? Find(string typeName) => _sets.Find(typeName);

    /// <summary>The set started under the key <typeparamref name="TKey"/> (<c>WithWriteBehindCounters&lt;TKey&gt;</c> or
    /// <c>WithWriteBehindCountersProxy&lt;TKey&gt;</c>), or <c>null</c>.</summary>
    /// <typeparam name="TKey">The set's registry key.</typeparam>
    public CounterSet? Find<TKey>() => _sets.Find(typeof(TKey));

    /// <summary>The set started under the key <typeparamref name="TKey"/>.</summary>
    /// <typeparam name="TKey">The set's registry key.</typeparam>
    /// <exception cref="InvalidOperationException">No set was started under that key on this system (yet).</exception>
    public CounterSet Get<TKey>() => Find<TKey>()
        ?? throw new InvalidOperationException(
            $"no counter set was started under the key {typeof(TKey).Name} on this actor system "
            + $"(WithWriteBehindCounters<{typeof(TKey).Name}> starts it)");

    /// <summary>Runs <paramref name="start"/> under <paramref name="typeName"/> and <paramref name="key"/>
    /// (see <see cref="SetRegistry{TSet}.StartAsync"/>).</summary>
    internal Task<CounterSet> StartAsync(string typeName, Type? key, Func<Task<CounterSet>> start) =>
        _sets.StartAsync(typeName, key, start);
}

/// <summary>INTERNAL API: creates <see cref="CounterSets"/>.</summary>
internal sealed class CounterSetsProvider : ExtensionIdProvider<CounterSets>
{
    public override CounterSets CreateExtension(ExtendedActorSystem system) =>
        new(system.Settings.Config.WithFallback(WriteBehindConfig.DefaultConfig()).GetString("akka.write-behind.counters.type-name"));
}
