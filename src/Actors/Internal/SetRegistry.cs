namespace Akka.WriteBehind.Internal;

/// <summary>
/// INTERNAL API
/// <para>
/// The sets of one feature started on an actor system, by shard type name and by registry key. A start reserves its type
/// name and key before it starts anything, so that a clash is refused with <see cref="DuplicateSetException"/> while
/// nothing of the second set runs yet; a start that fails releases them again.
/// </para>
/// </summary>
internal sealed class SetRegistry<TSet> where TSet : class
{
    private readonly object _lock = new();
    private readonly Dictionary<string, TSet?> _byTypeName = new(StringComparer.Ordinal);
    private readonly Dictionary<Type, string> _byKey = new();
    private readonly string _what;

    /// <param name="what">What a set is called in messages, e.g. "counter set".</param>
    public SetRegistry(string what) => _what = what;

    /// <summary>
    /// Reserves <paramref name="typeName"/> and <paramref name="key"/>, runs <paramref name="start"/> and makes its set
    /// findable; a start that fails frees both again. The type name and key are taken before anything starts, so that a
    /// clash leaves the first set alone.
    /// </summary>
    /// <exception cref="DuplicateSetException">The type name or the key is taken.</exception>
    public async Task<TSet> StartAsync(string typeName, Type? key, Func<Task<TSet>> start)
    {
        Reserve(typeName, key);
        try
        {
            var set = await start().ConfigureAwait(false);
            lock (_lock)
                _byTypeName[typeName] = set;
            return set;
        }
        catch
        {
            Release(typeName, key);
            throw;
        }
    }

    private void Reserve(string typeName, Type? key)
    {
        lock (_lock)
        {
            if (_byTypeName.ContainsKey(typeName))
                throw new DuplicateSetException(typeName, key,
                    $"a {_what} with type name '{typeName}' was already started on this actor system; "
                    + "give each set its own type name");
            if (key is not null && _byKey.TryGetValue(key, out var other))
                throw new DuplicateSetException(typeName, key,
                    $"the key {key.Name} already names the {_what} '{other}' on this actor system; give each set its own key");
            _byTypeName.Add(typeName, null);
            if (key is not null)
                _byKey.Add(key, typeName);
        }
    }

    private void Release(string typeName, Type? key)
    {
        lock (_lock)
        {
            _byTypeName.Remove(typeName);
            if (key is not null && _byKey.TryGetValue(key, out var reserved) && reserved == typeName)
                _byKey.Remove(key);
        }
    }

    public TSet? Find(string typeName)
    {
        lock (_lock)
            return _byTypeName.GetValueOrDefault(typeName);
    }

    public TSet? Find(Type key)
    {
        lock (_lock)
            return _byKey.TryGetValue(key, out var typeName) ? _byTypeName.GetValueOrDefault(typeName) : null;
    }
}
