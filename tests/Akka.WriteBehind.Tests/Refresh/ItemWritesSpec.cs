using Akka.WriteBehind.Refresh;

namespace Akka.WriteBehind.Tests.Refresh;

/// <summary>The refresh item's store bookkeeping, without an actor.</summary>
public sealed class ItemWritesSpec
{
    [Fact]
    public void Should_continue_the_stored_rows_version_and_write_one_change_at_a_time()
    {
        var writes = new ItemWrites();
        writes.Loaded(exists: true, storedVersion: 7);
        Assert.True(writes.AllStored);
        Assert.Null(writes.NextWrite());

        Assert.Equal(8, writes.Changed());
        Assert.Equal((8L, false), writes.NextWrite());
        Assert.Equal(9, writes.Changed());
        Assert.Null(writes.NextWrite()); // one write in flight

        Assert.True(writes.Written(8));
        Assert.False(writes.AllStored);
        Assert.Equal((9L, false), writes.NextWrite());
        Assert.True(writes.Written(9));
        Assert.True(writes.AllStored);
        Assert.Equal(9, writes.StoredVersion);
    }

    [Fact]
    public void Should_write_a_syncs_result_only_over_an_older_row_when_every_earlier_change_is_stored()
    {
        var writes = new ItemWrites();
        writes.Loaded(exists: true, storedVersion: 3);
        writes.Synced();
        Assert.Equal((4L, true), writes.NextWrite());
        Assert.True(writes.Written(4));

        // a caller's change not yet stored is part of the state the sync result carries: it must land whatever the row
        writes.Changed();
        writes.Synced();
        Assert.Equal((6L, false), writes.NextWrite());
    }

    [Fact]
    public void Should_write_a_syncs_result_unconditionally_over_a_row_without_a_version()
    {
        var writes = new ItemWrites();
        writes.Loaded(exists: true, storedVersion: null);
        writes.Synced();
        Assert.Equal((1L, false), writes.NextWrite());
    }

    [Fact]
    public void Should_ignore_the_outcome_of_a_write_no_longer_in_flight_and_count_failures_in_a_row()
    {
        var writes = new ItemWrites();
        writes.Loaded(exists: false, storedVersion: null);
        writes.Changed();
        writes.NextWrite();
        Assert.Equal(1, writes.WriteFailed(1));
        Assert.Null(writes.WriteFailed(1)); // a late answer of the same write
        Assert.False(writes.Written(1));
        Assert.True(writes.DoneForStop); // failing: a stop does not wait for it

        writes.Changed();
        Assert.Equal((2L, false), writes.NextWrite());
        Assert.False(writes.DoneForStop);
        Assert.Equal(2, writes.WriteFailed(2));
        writes.NextWrite();
        Assert.True(writes.Written(2));
        Assert.Equal(0, writes.Failures);
        Assert.True(writes.DoneForStop);
    }

    [Fact]
    public void Should_not_stop_while_a_change_waits_to_be_written_without_failures()
    {
        var writes = new ItemWrites();
        writes.Loaded(exists: true, storedVersion: 1);
        writes.Changed();
        Assert.False(writes.DoneForStop);
        Assert.Equal(1, writes.LoadFailed());
    }
}
