namespace Akka.WriteBehind.Host.Observability;

/// <summary>One entry of <see cref="RecentErrors"/>: a warning or error, and how often it repeated in a row.</summary>
/// <param name="Time">When it last happened (UTC).</param>
/// <param name="Level"><c>warning</c> or <c>error</c>.</param>
/// <param name="Source">Who reported it: an actor path, or <c>metrics</c> for refusals and failed batches.</param>
/// <param name="Message">What happened.</param>
/// <param name="Count">How many times in a row the same source reported the same message.</param>
public sealed record RecentError(DateTimeOffset Time, string Level, string Source, string Message, int Count);

/// <summary>
/// The last <see cref="Capacity"/> warnings and errors of this node (store failures, flush failures, refusals, failed
/// batches) for <c>/stats</c> and the status page: a bounded ring, thread-safe; a repeat of the newest entry (same source
/// and message) only bumps its count and time, so a burst of identical refusals takes one slot.
/// </summary>
public sealed class RecentErrors
{
    /// <summary>How many entries are kept.</summary>
    public const int Capacity = 50;

    /// <summary>Messages are cut to this many characters.</summary>
    public const int MaxMessageLength = 500;

    private readonly object _gate = new();
    private readonly RecentError[] _ring = new RecentError[Capacity];
    private int _next;
    private int _count;
    private long _total;

    /// <summary>Warnings and errors recorded since the node started (including those no longer kept).</summary>
    public long Total
    {
        get
        {
            lock (_gate)
                return _total;
        }
    }

    /// <summary>Records a warning or error.</summary>
    /// <param name="level"><c>warning</c> or <c>error</c>.</param>
    /// <param name="source">Who reported it.</param>
    /// <param name="message">What happened.</param>
    public void Add(string level, string source, string message)
    {
        if (message.Length > MaxMessageLength)
            message = message[..MaxMessageLength] + "…";
        var now = DateTimeOffset.UtcNow;
        lock (_gate)
        {
            _total++;
            if (_count > 0)
            {
                var newest = (_next + Capacity - 1) % Capacity;
                var last = _ring[newest];
                if (last.Level == level && last.Source == source && last.Message == message)
                {
                    _ring[newest] = last with { Time = now, Count = last.Count + 1 };
                    return;
                }
            }

            _ring[_next] = new RecentError(now, level, source, message, 1);
            _next = (_next + 1) % Capacity;
            _count = Math.Min(_count + 1, Capacity);
        }
    }

    /// <summary>The entries kept, newest first.</summary>
    public IReadOnlyList<RecentError> Snapshot()
    {
        lock (_gate)
        {
            var result = new RecentError[_count];
            for (var i = 0; i < _count; i++)
                result[i] = _ring[(_next - 1 - i + 2 * Capacity) % Capacity];
            return result;
        }
    }
}
