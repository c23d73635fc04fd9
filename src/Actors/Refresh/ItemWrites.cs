namespace Akka.WriteBehind.Refresh;

/// <summary>
/// INTERNAL API
/// <para>
/// The store bookkeeping of one refresh item, without the actor: the version of the changes accepted, the version stored,
/// the one write in flight and the failures in a row. Versions continue the stored row's; a change made by a sync's result
/// is written only over an older row (<see cref="NextWrite"/>).
/// </para>
/// </summary>
internal sealed class ItemWrites
{
    private long _syncedVersion = -1; // the version made by a sync's result
    private bool _rowVersioned = true; // the store told the row's version: versions here continue it
    private long? _writing;           // the version of the write in flight

    /// <summary>The version of the latest accepted change.</summary>
    public long Version { get; private set; }

    /// <summary>The version confirmed stored.</summary>
    public long StoredVersion { get; private set; }

    /// <summary>Failed loads or writes in a row.</summary>
    public int Failures { get; private set; }

    /// <summary>Whether every accepted change is stored.</summary>
    public bool AllStored => Version == StoredVersion;

    /// <summary>Whether the entity may stop: no write in flight, and nothing left to write unless writing has been failing.</summary>
    public bool DoneForStop => _writing is null && (AllStored || Failures > 0);

    /// <summary>The stored row was read: <paramref name="exists"/>, at <paramref name="storedVersion"/> (null: a row without one).</summary>
    public void Loaded(bool exists, long? storedVersion)
    {
        Version = StoredVersion = storedVersion ?? 0;
        _rowVersioned = !exists || storedVersion is not null;
        Failures = 0;
    }

    /// <summary>Loading failed; returns the failures in a row.</summary>
    public int LoadFailed() => ++Failures;

    /// <summary>A caller's change was accepted; returns its version.</summary>
    public long Changed() => ++Version;

    /// <summary>A sync's result was accepted; returns its version.</summary>
    public long Synced() => _syncedVersion = ++Version;

    /// <summary>
    /// Starts the next write when none is in flight and a change is not stored: its version, and whether it may land only
    /// over an older row (a sync's result, when every earlier change is stored, so that a stale one from an earlier
    /// incarnation loses). Null when there is nothing to start.
    /// </summary>
    public (long Version, bool OnlyOverOlder)? NextWrite()
    {
        if (_writing is not null || AllStored)
            return null;
        _writing = Version;
        return (Version, Version == _syncedVersion && StoredVersion == Version - 1 && _rowVersioned);
    }

    /// <summary>The write of <paramref name="version"/> was stored; false for the outcome of a write no longer in flight.</summary>
    public bool Written(long version)
    {
        if (_writing != version)
            return false;
        _writing = null;
        Failures = 0;
        StoredVersion = version;
        return true;
    }

    /// <summary>The write of <paramref name="version"/> failed: the failures in a row, or null for a write no longer in flight.</summary>
    public int? WriteFailed(long version)
    {
        if (_writing != version)
            return null;
        _writing = null;
        return ++Failures;
    }
}
