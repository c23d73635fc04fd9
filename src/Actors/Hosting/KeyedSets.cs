using Akka.Actor;
using Akka.Configuration;

namespace Akka.WriteBehind.Hosting;

/// <summary>INTERNAL API: what the keyed registrations of counter sets and refresh caches share.</summary>
internal static class KeyedSets
{
    public static void RequireTypeName(string? typeName, string optionName, string parameterName)
    {
        if (string.IsNullOrWhiteSpace(typeName))
            throw new ArgumentException($"A keyed set needs its own shard type name ({optionName}).", parameterName);
    }

    /// <summary>A keyed set's own options over the application's HOCON and the library defaults, for this set alone.</summary>
    public static Config SetConfig(ActorSystem system, Config options) =>
        options.WithFallback(system.Settings.Config).WithFallback(WriteBehindConfig.DefaultConfig());

    /// <summary>The library's own store lives as long as the actor system (a PostgreSQL store holds a connection pool).</summary>
    public static T Owned<T>(ActorSystem system, T store)
    {
        if (store is IDisposable disposable)
            system.RegisterOnTermination(disposable.Dispose);
        return store;
    }
}
