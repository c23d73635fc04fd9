using Akka.WriteBehind.Counters;

namespace Akka.WriteBehind.Tests.Counters;

/// <summary>
/// A route's inbox on its own: its counter is told once per fill, and a take returns every delta added since the last one,
/// in the newest event it came from.
/// </summary>
public sealed class CounterRouteInboxSpec
{
    [Fact]
    public void Should_ask_for_one_message_per_fill_and_hand_over_the_sum_of_every_event_since_the_last_take()
    {
        var inbox = new CounterRouteInbox();
        Assert.False(inbox.TryTake(out _));

        Assert.True(inbox.Add(seq: 4, delta: 3, increments: 2)); // empty until now: the counter is told
        Assert.False(inbox.Add(seq: 5, delta: -1, increments: 1)); // told already, not taken yet
        Assert.True(inbox.TryTake(out var taken));
        Assert.Equal((5L, 2L, 3L, true), (taken.Seq, taken.Delta, taken.Increments, taken.Counted)); // acknowledged: counted
        Assert.False(inbox.TryTake(out _)); // nothing is handed over twice

        Assert.True(inbox.Add(seq: 7, delta: 10, increments: 1)); // taken since: told again
        Assert.True(inbox.TryTake(out taken));
        Assert.Equal((7L, 10L, 1L), (taken.Seq, taken.Delta, taken.Increments));
    }

    [Fact]
    public async Task Should_lose_and_repeat_nothing_while_the_log_adds_and_the_counter_takes_at_once()
    {
        const int events = 200_000;
        var inbox = new CounterRouteInbox();
        long told = 0;
        var log = Task.Run(() =>
        {
            for (var seq = 1; seq <= events; seq++)
                if (inbox.Add(seq, delta: 2, increments: 1))
                    Interlocked.Increment(ref told);
        });

        long delta = 0, increments = 0, takes = 0, lastSeq = 0;
        while (!log.IsCompleted)
        {
            if (!inbox.TryTake(out var taken))
                continue;
            (delta, increments, takes) = (delta + taken.Delta, increments + taken.Increments, takes + 1);
            Assert.True(taken.Seq > lastSeq); // each take is newer than the one before
            lastSeq = taken.Seq;
        }

        await log;
        if (inbox.TryTake(out var last))
            (delta, increments, takes, lastSeq) = (delta + last.Delta, increments + last.Increments, takes + 1, last.Seq);
        Assert.Equal((2L * events, (long)events, (long)events), (delta, increments, lastSeq));
        Assert.Equal(Interlocked.Read(ref told), takes); // one message per take: none lost, none for nothing
    }
}
