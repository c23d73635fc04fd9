using Akka.Actor;
using Akka.WriteBehind.Internal;

namespace Akka.WriteBehind.Refresh;

/// <summary>
/// The refresh caches started on an actor system, by type name (<c>akka.write-behind.refresh.type-name</c>) and by registry
/// key (<c>WithWriteBehindRefresh&lt;TKey&gt;</c>): how code that did not start a cache itself reaches it.
/// <code>var jobs = RefreshSets.Get(system).Get&lt;Jobs&gt;().Region; // WithWriteBehindRefresh&lt;Jobs&gt;</code>
/// </summary>
public sealed class RefreshSets : IExtension
{
    private readonly SetRegistry<RefreshSet> _sets = new("refresh cache");
    private readonly string _defaultTypeName;

    internal RefreshSets(string defaultTypeName) => _defaultTypeName = defaultTypeName;

    /// <summary>The refresh caches of <paramref name="system"/>.</summary>
    /// <param name="system">The actor system.</param>
    public static RefreshSets Get(ActorSystem system) => system.WithExtension<RefreshSets, RefreshSetsProvider>();

    /// <summary>The cache whose type name is the configured <c>akka.write-behind.refresh.type-name</c>.</summary>
    /// <exception cref="InvalidOperationException">No such cache was started on this system (yet).</exception>
    public RefreshSet Default => Find(_defaultTypeName)
        ?? throw new InvalidOperationException(
            $"no refresh cache '{_defaultTypeName}' was started on this actor system "
            + "(WithWriteBehindRefresh or WriteBehindRefresh.StartAsync start it)");

    /// <summary>The cache started with type name <paramref name="typeName"/>, or <c>null</c>.</summary>
    /// <param name="typeName">The cache's shard type name.</param>
    public RefreshSet? Find(string typeName) => _sets.Find(typeName);

    /// <summary>The cache started under the key <typeparamref name="TKey"/>, or <c>null</c>.</summary>
    /// <typeparam name="TKey">The cache's registry key.</typeparam>
    public RefreshSet? Find<TKey>() => _sets.Find(typeof(TKey));

    /// <summary>The cache started under the key <typeparamref name="TKey"/> (<c>WithWriteBehindRefresh&lt;TKey&gt;</c> or
    /// <c>WithWriteBehindRefreshProxy&lt;TKey&gt;</c>).</summary>
    /// <typeparam name="TKey">The cache's registry key.</typeparam>
    /// <exception cref="InvalidOperationException">No cache was started under that key on this system (yet).</exception>
    public RefreshSet Get<TKey>() => Find<TKey>()
        ?? throw new InvalidOperationException(
            $"no refresh cache was started under the key {typeof(TKey).Name} on this actor system "
            + $"(WithWriteBehindRefresh<{typeof(TKey).Name}> starts it)");

    /// <summary>Runs <paramref name="start"/> under <paramref name="typeName"/> and <paramref name="key"/>
    /// (see <see cref="SetRegistry{TSet}.StartAsync"/>).</summary>
    internal Task<RefreshSet> StartAsync(string typeName, Type? key, Func<Task<RefreshSet>> start) =>
        _sets.StartAsync(typeName, key, start);
}

/// <summary>INTERNAL API: creates <see cref="RefreshSets"/>.</summary>
internal sealed class RefreshSetsProvider : ExtensionIdProvider<RefreshSets>
{
    public override RefreshSets CreateExtension(ExtendedActorSystem system) =>
        new(system.Settings.Config.WithFallback(WriteBehindConfig.DefaultConfig())
            .GetString(RefreshSettings.ConfigPath + "." + RefreshSettings.Keys.TypeName));
}
