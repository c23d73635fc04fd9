using Akka.WriteBehind.Counters;
using Akka.WriteBehind.Tests.Support;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Counters;

/// <summary>
/// An acknowledged increment is handed on at once, not at the next aggregate window: the window here is an hour, so only
/// the wake-up can answer within the test. Fire-and-forget increments do not wake the stage; they go with the next drain.
/// </summary>
public abstract class CounterFastPathWakeSpecBase(ITestOutputHelper output, string durability)
    : CounterSpecBase(output, durability + """

        akka.write-behind.counters {
          flush-interval = 1h
          ingest.aggregate-window = 1h
        }
        """)
{
    [Fact]
    public async Task Should_answer_an_acknowledged_increment_without_waiting_for_the_window()
    {
        Assert.IsType<IncrementAccepted>(await Counters.IncrementAsync("wake-1", 5).WaitAsync(AwaitTimeout));
        Assert.Equal(5, Assert.IsType<CounterValue>(await AskAsync(new GetCounter("wake-1"))).Total);

        var replies = await Counters.IncrementAsync(Enumerable.Range(0, 50).Select(i => new Increment($"wake-{i % 5}", 1))).WaitAsync(AwaitTimeout);
        Assert.All(replies, r => Assert.IsType<IncrementAccepted>(r));
        Assert.Equal(50, Counters.FastPath!.DeliveredIncrements - 1);
    }

    [Fact]
    public async Task Should_take_waiting_fire_and_forget_increments_along_with_a_woken_drain()
    {
        Assert.Equal(FastIncrementStatus.Buffered, Counters.Increment("told-1", 1));
        Assert.IsType<IncrementAccepted>(await Counters.IncrementAsync("woken-1", 1).WaitAsync(AwaitTimeout));
        // the drain the acknowledged one asked for took every ready key, the told one included
        await AwaitAssertAsync(() => Assert.Equal(2, Counters.FastPath!.DeliveredIncrements), AwaitTimeout);
    }
}

public sealed class CounterFastPathWakeSpec(ITestOutputHelper output) : CounterFastPathWakeSpecBase(output, "");

public sealed class JournalCounterFastPathWakeSpec(ITestOutputHelper output) : CounterFastPathWakeSpecBase(output, Journal.Durable);
