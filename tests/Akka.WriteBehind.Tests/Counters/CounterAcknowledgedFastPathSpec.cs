using Akka.WriteBehind.Counters;
using Akka.WriteBehind.Tests.Support;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Counters;

/// <summary>
/// <see cref="CounterSet.IncrementAsync(string, long)"/> with journal durability: every increment's task completes once it
/// is in its shard's log, aggregated underneath; run against SQLite and PostgreSQL.
/// </summary>
public abstract class CounterAcknowledgedFastPathSpecBase(ITestOutputHelper output, TestDatabase database)
    : CounterSpecBase(output, Journal.Durable + "\nakka.write-behind.counters.flush-interval = 1h", database)
{
    [Fact]
    public async Task Should_complete_each_increment_once_it_is_in_the_journal()
    {
        const int keys = 100, perKey = 50;
        var tasks = new List<Task<ICounterReply>>();
        for (var i = 0; i < perKey; i++)
            for (var k = 0; k < keys; k++)
                tasks.Add(Counters.IncrementAsync($"ack-{k}", k + 1));

        var replies = await Task.WhenAll(tasks).WaitAsync(AwaitTimeout);
        Assert.All(replies, r => Assert.IsType<IncrementAccepted>(r));
        Assert.Equal(keys * perKey, Counters.FastPath!.DeliveredIncrements);

        // acknowledged = in the shard logs (nothing is flushed within the test), far fewer events than increments
        var events = (await Database.JournalEventCountsAsync()).Values.Sum();
        Output?.WriteLine($"{keys * perKey} acknowledged increments in {events} shard-log events");
        Assert.InRange(events, 1, keys * perKey / 2);
        Assert.Empty(await Database.ReadCountersAsync());
        for (var k = 0; k < keys; k++)
            Assert.Equal(new CounterFlushed($"ack-{k}", (long)perKey * (k + 1)), await AskAsync(new FlushCounter($"ack-{k}")));
    }

    [Fact]
    public async Task Should_tell_each_increment_its_typed_refusal()
    {
        Assert.Equal(ErrorCode.InvalidKey, Assert.IsType<CounterRejected>(await Counters.IncrementAsync("", 1)).Code);
        Assert.IsType<IncrementAccepted>(await Counters.IncrementAsync("ack-overflow", long.MaxValue));

        // the entity refuses the aggregate that would overflow the counter: each of its callers hears Overflow
        var refused = await Task.WhenAll(Counters.IncrementAsync("ack-overflow", 1), Counters.IncrementAsync("ack-overflow", 2));
        Assert.All(refused, r => Assert.Equal(ErrorCode.Overflow, Assert.IsType<CounterRejected>(r).Code));
        Assert.Equal(new CounterValue("ack-overflow", 0, long.MaxValue, long.MaxValue), await AskAsync(new GetCounter("ack-overflow")));
    }

    [Fact]
    public async Task Should_answer_many_increments_in_their_order()
    {
        var replies = await Counters.IncrementAsync([new Increment("many-a", 1), new Increment("", 2), new Increment("many-a", 3)]);
        Assert.Equal(new IncrementAccepted("many-a", 1), replies[0]);
        Assert.Equal(ErrorCode.InvalidKey, Assert.IsType<CounterRejected>(replies[1]).Code);
        Assert.Equal(new IncrementAccepted("many-a", 3), replies[2]);
        Assert.Equal(new CounterFlushed("many-a", 4), await AskAsync(new FlushCounter("many-a")));
    }
}

public sealed class CounterAcknowledgedFastPathSpec(ITestOutputHelper output)
    : CounterAcknowledgedFastPathSpecBase(output, new SqliteTestDatabase());

[Collection(PostgresFixture.Collection)]
public sealed class PostgresCounterAcknowledgedFastPathSpec(ITestOutputHelper output, PostgresFixture postgres)
    : CounterAcknowledgedFastPathSpecBase(output, new PostgresTestDatabase(postgres));

/// <summary><see cref="CounterSet.IncrementAsync(string, long)"/> with memory durability: complete once the entity took the increment.</summary>
public sealed class CounterAcknowledgedMemoryFastPathSpec(ITestOutputHelper output)
    : CounterSpecBase(output, "akka.write-behind.counters.flush-interval = 1h")
{
    [Fact]
    public async Task Should_complete_once_the_entity_holds_the_increment()
    {
        var replies = await Task.WhenAll(Enumerable.Range(1, 100).Select(i => Counters.IncrementAsync("mem-ack", i)));
        Assert.All(replies, r => Assert.IsType<IncrementAccepted>(r));
        Assert.Equal(new CounterValue("mem-ack", 0, 5050, 5050), await AskAsync(new GetCounter("mem-ack")));
    }
}

/// <summary>The many-increments form with a time limit: outcomes in so far, <c>null</c> for the rest, which still count.</summary>
public sealed class CounterAcknowledgedManySpec(ITestOutputHelper output)
    : CounterSpecBase(output, Journal.Durable + "\nakka.write-behind.counters.flush-interval = 1h")
{
    [Fact]
    public async Task Should_give_the_outcomes_in_so_far_when_the_time_limit_passes_first()
    {
        Increment[] increments = [new("limit-a", 1), new("", 2), new("limit-a", 3) { RequestId = "bad id!" }, new("limit-b", 4)];

        // nothing buffered can be journaled at once: only the refusals are in when a zero limit passes
        var early = await Counters.IncrementAsync(increments, TimeSpan.Zero);
        Assert.Null(early[0]);
        Assert.Equal(ErrorCode.InvalidKey, Assert.IsType<CounterRejected>(early[1]).Code);
        Assert.Equal(ErrorCode.InvalidArgument, Assert.IsType<CounterRejected>(early[2]).Code);
        Assert.Null(early[3]);

        // the unanswered ones still count (their outcome was unknown to the caller, not a refusal)
        await AwaitAssertAsync(async () =>
            Assert.Equal(new CounterValue("limit-b", 0, 4, 4), await AskAsync(new GetCounter("limit-b"))), AwaitTimeout);
        Assert.Equal(new CounterValue("limit-a", 0, 1, 1), await AskAsync(new GetCounter("limit-a")));

        var all = await Counters.IncrementAsync(increments.Where(i => i.RequestId is null).ToList(), AwaitTimeout);
        Assert.Equal([new IncrementAccepted("limit-a", 1), null, new IncrementAccepted("limit-b", 4)],
            all.Select(r => r as IncrementAccepted));
        Assert.Equal(ErrorCode.InvalidKey, Assert.IsType<CounterRejected>(all[1]).Code);
    }
}
