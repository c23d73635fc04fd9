using System.Collections.Concurrent;
using Akka.Actor;

namespace Akka.WriteBehind.Counters;

/// <summary>
/// The counter sets started on an actor system, by type name (<c>akka.write-behind.counters.type-name</c>): how code that did
/// not start a set itself — an Akka.Hosting application, whose <c>WithWriteBehindCounters</c> starts it — reaches its
/// <see cref="CounterSet.FastPath"/>:
/// <code>CounterSets.Get(system).Default.Increment("page:home", 1);</code>
/// </summary>
public sealed class CounterSets : IExtension
{
    private readonly ConcurrentDictionary<string, CounterSet> _sets = new(StringComparer.Ordinal);
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
    public CounterSet? Find(string typeName) => _sets.TryGetValue(typeName, out var set) ? set : null;

    internal void Add(CounterSet set) => _sets[set.Settings.TypeName] = set;
}

/// <summary>INTERNAL API: creates <see cref="CounterSets"/>.</summary>
internal sealed class CounterSetsProvider : ExtensionIdProvider<CounterSets>
{
    public override CounterSets CreateExtension(ExtendedActorSystem system) =>
        new(system.Settings.Config.WithFallback(WriteBehindConfig.DefaultConfig()).GetString("akka.write-behind.counters.type-name"));
}
