using Akka.Actor;
using Akka.WriteBehind.Counters;
using Akka.WriteBehind.Tests.Support;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Counters;

/// <summary>
/// A stopping shard log does not wait out <c>journal.group-window</c>: it persists what it holds at once, so its counters
/// acknowledge and write it before they stop (here the window is 20 days: nothing but the stop can persist the delta, and
/// the log's first persist must not wait for it either, however recently the machine booted).
/// </summary>
public sealed class CounterJournalStopSpec(ITestOutputHelper output)
    : CounterSpecBase(output, Journal.Durable + "\nakka.write-behind.counters { flush-interval = 1h, journal.group-window = 20d }")
{
    [Fact]
    public async Task Should_persist_what_waits_for_the_group_window_at_once_when_it_is_stopped()
    {
        Assert.IsType<IncrementAccepted>(await AskAsync(new Increment("stop-window", 1))); // the log's first persist: at once

        Region.Tell(new Increment("stop-window", 2), TestActor);
        await ExpectNoMsgAsync(TimeSpan.FromMilliseconds(500)); // held for the next window

        // the hand-off's stop, told to the shard log directly (the node's shutdown would first wait for the ingest to drain)
        var log = await Sys.ActorSelection($"/system/sharding/{Counters.Settings.TypeName}/*/*journal-*").ResolveOne(AskTimeout);
        log.Tell(StopCounter.Instance);
        Assert.Equal(new IncrementAccepted("stop-window", 2), await ExpectMsgAsync<IncrementAccepted>(AskTimeout));
        Assert.Equal(new CounterFlushed("stop-window", 3), await AskAsync(new FlushCounter("stop-window")));
    }
}
