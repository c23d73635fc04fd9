namespace Akka.WriteBehind;

/// <summary>
/// A counter set or refresh cache was started twice on one actor system: with a shard type name already in use there, or
/// under a registry key already taken. Thrown at start-up, before anything of the second set runs: two sets on one type name
/// would share one shard region (each entity created by whichever set's props came first), and one key cannot name two sets.
/// </summary>
public sealed class DuplicateSetException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="typeName">The shard type name of the set that was refused.</param>
    /// <param name="key">The registry key it was started under, or <c>null</c> for none.</param>
    /// <param name="message">What clashed with what.</param>
    public DuplicateSetException(string typeName, Type? key, string message)
        : base(message)
    {
        TypeName = typeName;
        Key = key;
    }

    /// <summary>The shard type name of the set that was refused.</summary>
    public string TypeName { get; }

    /// <summary>The registry key the refused set was started under (<c>WithWriteBehindCounters&lt;TKey&gt;</c>), or
    /// <c>null</c>.</summary>
    public Type? Key { get; }
}
