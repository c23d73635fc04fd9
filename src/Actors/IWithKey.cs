namespace Akka.WriteBehind;

/// <summary>
/// A message addressed to the entity that owns one resource key. Shard regions route every
/// <see cref="IWithKey"/> message to the single entity for <see cref="Key"/>, cluster-wide.
/// </summary>
public interface IWithKey
{
    /// <summary>The resource key: non-empty, at most 256 UTF-8 bytes, no control characters.</summary>
    string Key { get; }
}
