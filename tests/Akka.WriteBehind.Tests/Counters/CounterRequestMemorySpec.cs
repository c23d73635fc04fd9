using System.Collections.Immutable;
using Akka.WriteBehind.Counters;

namespace Akka.WriteBehind.Tests.Counters;

/// <summary>The counter's memory of counted request ids, without an actor.</summary>
public sealed class CounterRequestMemorySpec
{
    private static ImmutableArray<RequestDelta> Requests(params (string Id, long Delta)[] requests) =>
        requests.Select(r => new RequestDelta(r.Id, r.Delta)).ToImmutableArray();

    [Fact]
    public void Should_leave_out_ids_counted_before_and_ids_repeated_within_the_aggregate()
    {
        var memory = new CounterRequestMemory(TimeSpan.FromMinutes(10), 100);
        memory.Remember(Requests(("a", 5)), nowMs: 0);

        // +5 (a, a repeat), +3 (b), +3 (b again) and +1 without an id: 4 is counted, b is new
        Assert.True(memory.TryFilter(12, Requests(("a", 5), ("b", 3), ("b", 3)), nowMs: 1, out var counted, out var fresh));
        Assert.Equal(4, counted);
        Assert.Equal([new RequestDelta("b", 3)], fresh.ToArray());
    }

    [Fact]
    public void Should_forget_an_id_once_its_window_has_passed()
    {
        var memory = new CounterRequestMemory(TimeSpan.FromSeconds(10), 100);
        memory.Remember(Requests(("a", 5)), nowMs: 0);
        Assert.True(memory.Contains("a", nowMs: 9_999));
        Assert.False(memory.Contains("a", nowMs: 10_000));

        memory.Remember(Requests(("b", 1)), nowMs: 10_000);
        Assert.Equal(1, memory.Count); // a was pruned
    }

    [Fact]
    public void Should_keep_only_the_newest_ids_beyond_its_bound()
    {
        var memory = new CounterRequestMemory(TimeSpan.FromMinutes(10), 3);
        for (var i = 0; i < 10; i++)
            memory.Remember(Requests(($"r{i}", 1)), nowMs: i);
        Assert.Equal(3, memory.Count);
        Assert.False(memory.Contains("r6", nowMs: 10));
        Assert.True(memory.Contains("r7", nowMs: 10));
        Assert.True(memory.Contains("r9", nowMs: 10));
    }

    [Fact]
    public void Should_refuse_an_aggregate_whose_delta_without_repeats_leaves_the_64_bit_range()
    {
        var memory = new CounterRequestMemory(TimeSpan.FromMinutes(10), 100);
        memory.Remember(Requests(("a", long.MinValue)), nowMs: 0);
        // leaving the repeat (long.MinValue) out of an aggregate of 0 gives 2^63, one beyond long.MaxValue
        Assert.False(memory.TryFilter(0, Requests(("a", long.MinValue)), nowMs: 1, out _, out _));
    }
}
