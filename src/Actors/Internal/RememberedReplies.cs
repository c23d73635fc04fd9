namespace Akka.WriteBehind.Internal;

/// <summary>
/// INTERNAL API
/// <para>
/// The first answers an entity gave to requests that carried a request id, so that a repeat is answered the same without
/// being applied again: each for a window after it was given, at most the newest <c>max</c>.
/// </para>
/// </summary>
/// <typeparam name="T">What is remembered per id.</typeparam>
internal sealed class RememberedReplies<T>
{
    private readonly long _windowMs;
    private readonly int _max;
    private readonly Dictionary<string, (T Reply, long ExpiresAt)> _replies = new(StringComparer.Ordinal);
    private readonly Queue<(string Id, long ExpiresAt)> _byAge = new();

    public RememberedReplies(TimeSpan window, int max)
    {
        _windowMs = (long)window.TotalMilliseconds;
        _max = max;
    }

    /// <summary>Ids remembered now.</summary>
    public int Count => _replies.Count;

    /// <summary>The first answer to <paramref name="id"/>, if it was given within the window.</summary>
    public bool TryGet(string id, long nowMs, out T reply)
    {
        if (_replies.TryGetValue(id, out var entry) && entry.ExpiresAt > nowMs)
        {
            reply = entry.Reply;
            return true;
        }

        reply = default!;
        return false;
    }

    /// <summary>Remembers <paramref name="reply"/> as the answer to <paramref name="id"/>.</summary>
    public void Remember(string id, T reply, long nowMs)
    {
        var expiresAt = nowMs + _windowMs;
        _replies[id] = (reply, expiresAt);
        _byAge.Enqueue((id, expiresAt));
        while (_byAge.TryPeek(out var oldest) && (oldest.ExpiresAt <= nowMs || _replies.Count > _max))
        {
            _byAge.Dequeue();
            // a later Remember of the same id renewed it: only the entry of its newest expiry removes it
            if (_replies.TryGetValue(oldest.Id, out var entry) && entry.ExpiresAt == oldest.ExpiresAt)
                _replies.Remove(oldest.Id);
        }
    }
}
