using System.Runtime.InteropServices;

namespace Akka.WriteBehind.Counters;

/// <summary>
/// INTERNAL API
/// <para>
/// What a shard log may delete: per key with events whose deltas its row may not hold yet, the oldest and newest such
/// event; a trim stops below the oldest of them all. A key's counter reports what its row holds (<see cref="Stored"/>),
/// which moves its oldest event on or forgets the key. Pure bookkeeping, tested without an actor.
/// </para>
/// <para>
/// A key's range is an object the log may keep (on the key's route), so that recording a routed key's event costs no
/// lookup; a range the key no longer has is marked removed, and a kept one that is not marked is the key's range.
/// </para>
/// </summary>
internal sealed class ShardLogTrims
{
    private readonly Dictionary<string, Range> _unstored = new(StringComparer.Ordinal);

    /// <summary>How far the log has deleted.</summary>
    public long TrimmedUpTo { get; private set; }

    /// <summary>Whether a delete is in flight (a log runs one at a time).</summary>
    public bool Trimming => _trimming != 0;

    private long _trimming; // what the delete in flight deletes up to (0: none)

    /// <summary>Keys with events not known stored, for tests.</summary>
    public int UnstoredKeys => _unstored.Count;

    /// <summary>The keys with events whose deltas their rows may not hold yet.</summary>
    public IEnumerable<string> Keys => _unstored.Keys;

    /// <summary>Whether some event of <paramref name="key"/> holds a delta its row may not hold yet.</summary>
    public bool HasUnstored(string key) => _unstored.ContainsKey(key);

    /// <summary>Event <paramref name="seq"/> (confirmed persisted, or replayed) holds a delta of <paramref name="key"/>.</summary>
    public void Unstored(string key, long seq)
    {
        Range? kept = null;
        Unstored(key, seq, ref kept);
    }

    /// <summary>
    /// <see cref="Unstored(string, long)"/> through <paramref name="kept"/>, the key's range as the caller kept it from an
    /// earlier call (or <c>null</c>); it is set to the key's range.
    /// </summary>
    public void Unstored(string key, long seq, ref Range? kept)
    {
        if (kept is { Removed: false } range)
        {
            range.Last = seq;
            return;
        }

        ref var entry = ref CollectionsMarshal.GetValueRefOrAddDefault(_unstored, key, out _);
        if (entry is null)
            entry = new Range(seq, seq);
        else
            entry.Last = seq;
        kept = entry;
    }

    /// <summary>The row of <paramref name="key"/> holds every delta up to event <paramref name="upToSeq"/>.</summary>
    public void Stored(string key, long upToSeq)
    {
        if (!_unstored.TryGetValue(key, out var range))
            return;
        if (range.Last <= upToSeq)
        {
            _unstored.Remove(key);
            range.Removed = true;
        }
        else if (range.First <= upToSeq)
            range.First = upToSeq + 1; // conservative: the key's next event is at least this one
    }

    /// <summary>
    /// The event to delete up to, given the newest confirmed one (<paramref name="confirmedSeq"/>): below the oldest event
    /// not known stored; <c>null</c> when that deletes nothing new.
    /// </summary>
    public long? TrimPoint(long confirmedSeq)
    {
        var upTo = confirmedSeq;
        foreach (var range in _unstored.Values)
            upTo = Math.Min(upTo, range.First - 1);
        return upTo > TrimmedUpTo ? upTo : null;
    }

    /// <summary>Starts a delete up to <see cref="TrimPoint"/>, unless one is in flight or there is nothing new to delete.</summary>
    /// <returns>The event to delete up to, or <c>null</c>: no delete starts.</returns>
    public long? BeginTrim(long confirmedSeq)
    {
        if (Trimming || TrimPoint(confirmedSeq) is not { } upTo)
            return null;
        _trimming = upTo;
        return upTo;
    }

    /// <summary>The journal deleted up to <paramref name="toSeq"/>.</summary>
    public void Trimmed(long toSeq)
    {
        TrimmedUpTo = Math.Max(TrimmedUpTo, toSeq);
        _trimming = 0;
    }

    /// <summary>The delete in flight failed: its events stay for a later trim (or the next replay).</summary>
    public void TrimFailed() => _trimming = 0;

    /// <summary>INTERNAL API: a key's oldest and newest event whose deltas its row may not hold yet.</summary>
    internal sealed class Range(long first, long last)
    {
        public long First = first;
        public long Last = last;
        public bool Removed; // the key's row holds them all: no longer in the log's record
    }
}
