using Akka.WriteBehind.Counters;

namespace Akka.WriteBehind.Tests.Counters;

/// <summary>The ingest stage's record of fast-path aggregates in flight, without an actor.</summary>
public sealed class AggregatesInFlightSpec
{
    [Fact]
    public void Should_hand_back_a_keys_aggregates_in_the_order_they_were_sent()
    {
        var inFlight = new AggregatesInFlight();
        inFlight.Add("a", new CounterFastPath.Aggregate(1, 1));
        inFlight.Add("b", new CounterFastPath.Aggregate(10, 1));
        inFlight.Add("a", new CounterFastPath.Aggregate(2, 2));
        inFlight.Add("a", new CounterFastPath.Aggregate(3, 3));
        Assert.Equal(2, inFlight.Count);

        Assert.True(inFlight.TryTake("a", out var first, out var last));
        Assert.Equal((1L, false), (first.Sum, last));
        Assert.True(inFlight.TryTake("a", out var second, out last));
        Assert.Equal((2L, false), (second.Sum, last));
        inFlight.Add("a", new CounterFastPath.Aggregate(4, 4)); // behind the one still in flight
        Assert.True(inFlight.TryTake("a", out var third, out last));
        Assert.Equal((3L, false), (third.Sum, last));
        Assert.True(inFlight.TryTake("a", out var fourth, out last));
        Assert.Equal((4L, true), (fourth.Sum, last));

        Assert.False(inFlight.Contains("a"));
        Assert.False(inFlight.TryTake("a", out _, out _));
        Assert.True(inFlight.TryTake("b", out var b, out last));
        Assert.Equal((10L, true), (b.Sum, last));
        Assert.Equal(0, inFlight.Count);
    }

    [Fact]
    public void Should_allocate_nothing_for_one_aggregate_per_key_once_warm()
    {
        var inFlight = new AggregatesInFlight();
        var keys = Enumerable.Range(0, 100).Select(i => $"k{i}").ToArray();
        for (var round = 0; round < 2; round++)
            Cycle(); // the dictionary grows to its size and the code is jitted

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var round = 0; round < 10; round++)
            Cycle();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);

        void Cycle()
        {
            foreach (var key in keys)
                inFlight.Add(key, new CounterFastPath.Aggregate(1, 1));
            foreach (var key in keys)
                Assert.True(inFlight.TryTake(key, out _, out _));
        }
    }
}
