using Akka.WriteBehind.Counters;

namespace Akka.WriteBehind.Tests.Counters;

/// <summary>A counter entity's sums and their overflow check, without an actor.</summary>
public sealed class CounterSumsSpec
{
    [Fact]
    public void Should_move_the_pending_delta_into_the_write_and_store_it_when_written()
    {
        var sums = new CounterSums();
        sums.Loaded(10);
        sums.Add(5);
        sums.Add(2);

        sums.BeginWrite();
        sums.Add(1);

        Assert.Equal((10L, 7L, 1L, 8L, 3L), (sums.Stored, sums.InFlight, sums.Pending, sums.Unstored, sums.UnstoredCount));
        sums.Written(17);
        Assert.Equal((17L, 0L, 1L, 1L, 1L), (sums.Stored, sums.InFlight, sums.Pending, sums.Unstored, sums.UnstoredCount));
    }

    [Fact]
    public void Should_date_the_oldest_unstored_increment_from_the_write_while_one_is_in_flight()
    {
        var sums = new CounterSums();
        Assert.Equal(0, sums.OldestUnstored(writing: false));

        sums.Add(1);
        var first = sums.PendingSince;
        Assert.NotEqual(0, first);
        sums.Add(1);
        Assert.Equal(first, sums.PendingSince); // the oldest, not the latest

        sums.BeginWrite();
        Assert.Equal(0, sums.PendingSince);
        Assert.Equal(first, sums.OldestUnstored(writing: true));
        Assert.Equal(0, sums.OldestUnstored(writing: false));
    }

    [Fact]
    public void Should_forget_a_pending_delta_that_nets_out_to_zero()
    {
        var sums = new CounterSums();
        sums.Add(4);
        sums.Add(-4);

        Assert.Equal((0L, 0L, 0L), (sums.Pending, sums.PendingSince, sums.UnstoredCount));
    }

    [Theory]
    [InlineData(0L, 0L, long.MaxValue, true)]         // up to the largest total
    [InlineData(1L, 0L, long.MaxValue, false)]        // one more overflows the total
    [InlineData(long.MinValue, 0L, -1L, false)]       // below the smallest
    [InlineData(-5L, 0L, long.MinValue + 5, true)]
    public void Should_refuse_a_delta_that_takes_the_total_out_of_64_bits(long stored, long pending, long delta, bool fits)
    {
        var sums = new CounterSums();
        sums.Loaded(stored);
        sums.Add(pending);

        Assert.Equal(fits, sums.Fits(delta, unjournaled: 0, groupSum: 0, out _));
    }

    [Fact]
    public void Should_count_the_write_in_flight_and_the_unjournaled_deltas_in_the_total()
    {
        var sums = new CounterSums();
        sums.Add(long.MaxValue - 10);
        sums.BeginWrite();

        Assert.True(sums.Fits(5, unjournaled: 5, groupSum: 5, out var group));
        Assert.Equal(10, group);
        Assert.False(sums.Fits(6, unjournaled: 5, groupSum: 0, out _));
        Assert.Equal((Int128)long.MaxValue - 5, sums.Total(unjournaled: 5));
    }

    [Fact]
    public void Should_refuse_a_delta_that_takes_the_group_out_of_64_bits_even_when_the_total_fits()
    {
        var sums = new CounterSums();
        sums.Loaded(long.MinValue);

        // the total fits (min + max + 1 = 0), the group (max + 1) does not
        Assert.False(sums.Fits(1, unjournaled: 0, groupSum: long.MaxValue, out _));
    }
}
