using Akka.WriteBehind.Counters;

namespace Akka.WriteBehind.Tests.Counters;

/// <summary>How far a shard log may delete, without an actor.</summary>
public sealed class ShardLogTrimsSpec
{
    [Fact]
    public void Should_trim_below_the_oldest_event_a_row_may_not_hold()
    {
        var trims = new ShardLogTrims();
        trims.Unstored("a", 3);
        trims.Unstored("b", 5);
        trims.Unstored("a", 7);

        Assert.Equal(2, trims.TrimPoint(confirmedSeq: 7));
        Assert.Equal(["a", "b"], trims.Keys.Order());
        trims.Stored("a", 7);
        Assert.Equal(4, trims.TrimPoint(confirmedSeq: 7));
        Assert.Equal(["b"], trims.Keys);
        trims.Stored("b", 5);
        Assert.Equal(7, trims.TrimPoint(confirmedSeq: 7));
        Assert.Equal(0, trims.UnstoredKeys);
    }

    [Fact]
    public void Should_record_through_a_kept_range_only_while_the_key_has_it()
    {
        var trims = new ShardLogTrims();
        ShardLogTrims.Range? kept = null;
        trims.Unstored("a", 3, ref kept);
        trims.Unstored("a", 4, ref kept);
        Assert.Equal(2, trims.TrimPoint(confirmedSeq: 4));

        trims.Stored("a", 4); // the key's range goes
        var gone = kept;
        trims.Unstored("a", 8, ref kept); // a new range, not the one kept
        Assert.NotSame(gone, kept);
        Assert.Equal(7, trims.TrimPoint(confirmedSeq: 9));
        trims.Stored("a", 8);
        Assert.Equal(0, trims.UnstoredKeys);
    }

    [Fact]
    public void Should_move_a_keys_oldest_event_on_when_its_row_holds_part_of_them()
    {
        var trims = new ShardLogTrims();
        trims.Unstored("a", 3);
        trims.Unstored("a", 9);

        trims.Stored("a", 5); // stored up to 5: the key's next event is at least 6

        Assert.Equal(5, trims.TrimPoint(confirmedSeq: 9));
        Assert.Equal(1, trims.UnstoredKeys);
    }

    [Fact]
    public void Should_ignore_a_report_older_than_the_keys_events()
    {
        var trims = new ShardLogTrims();
        trims.Unstored("a", 4);

        trims.Stored("a", 2);
        trims.Stored("unknown", 10);

        Assert.Equal(3, trims.TrimPoint(confirmedSeq: 4));
    }

    [Fact]
    public void Should_offer_nothing_that_is_already_deleted()
    {
        var trims = new ShardLogTrims();
        Assert.Equal(6, trims.TrimPoint(confirmedSeq: 6));

        trims.Trimmed(6);
        Assert.Null(trims.TrimPoint(confirmedSeq: 6));
        trims.Trimmed(4); // a late answer of an older delete does not move it back
        Assert.Equal(6, trims.TrimmedUpTo);
        Assert.Equal(8, trims.TrimPoint(confirmedSeq: 8));
    }

    [Fact]
    public void Should_run_one_delete_at_a_time_and_start_again_after_a_failed_one()
    {
        var trims = new ShardLogTrims();

        Assert.Equal(4, trims.BeginTrim(confirmedSeq: 4));
        Assert.True(trims.Trimming);
        Assert.Null(trims.BeginTrim(confirmedSeq: 9)); // one in flight

        trims.TrimFailed();
        Assert.False(trims.Trimming);
        Assert.Equal(9, trims.BeginTrim(confirmedSeq: 9)); // the failed one's events are offered again
        trims.Trimmed(9);
        Assert.False(trims.Trimming);
        Assert.Null(trims.BeginTrim(confirmedSeq: 9));
    }
}
