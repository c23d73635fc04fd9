namespace Akka.WriteBehind.Internal;

/// <summary>
/// INTERNAL API
/// <para>
/// Lets one actor turn that hands many calls to node-local grouping stages (a call group sending its operations) wake each
/// stage's sender once, after the last call, instead of at the first: a sender woken at the first call could take the key's
/// group before the rest of the turn's calls for that key are in it. Thread-static, so only the opening thread's calls wait.
/// </para>
/// </summary>
internal static class DeferredSignals
{
    [ThreadStatic] private static List<Action>? _pending;

    /// <summary>
    /// Defers <see cref="Signal"/>s on this thread until the returned scope is disposed. A scope opened inside another one
    /// defers to it: the outer scope's end runs them all.
    /// </summary>
    public static Scope Open()
    {
        if (_pending is not null)
            return new Scope(owner: false);
        _pending = new List<Action>();
        return new Scope(owner: true);
    }

    /// <summary>Runs <paramref name="signal"/> now, or at the end of this thread's open scope.</summary>
    public static void Signal(Action signal)
    {
        if (_pending is { } pending)
            pending.Add(signal);
        else
            signal();
    }

    /// <summary>The open scope: disposing it runs the deferred signals.</summary>
    public readonly struct Scope : IDisposable
    {
        private readonly bool _owner;

        internal Scope(bool owner) => _owner = owner;

        /// <inheritdoc />
        public void Dispose()
        {
            if (!_owner)
                return;
            var pending = _pending;
            _pending = null;
            if (pending is null)
                return;
            foreach (var signal in pending)
                signal();
        }
    }
}
