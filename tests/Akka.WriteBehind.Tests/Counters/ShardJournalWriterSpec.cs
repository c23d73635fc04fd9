using System.Collections.Immutable;
using Akka.Actor;
using Akka.Configuration;
using Akka.WriteBehind.Counters;
using Akka.WriteBehind.Tests.Support;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Counters;

/// <summary>
/// The node's writer of shard-log events: the events that wait while a write is in flight go to the journal together, as
/// one write call, and every log hears its own outcome.
/// </summary>
public sealed class ShardJournalWriterSpec(ITestOutputHelper output)
    : Akka.TestKit.Xunit2.TestKit(ConfigurationFactory.ParseString(HeldJournal.Hocon), output: output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    private static WriteShardEvent Event(string persistenceId, long seq) =>
        new(persistenceId, seq, new ShardIncrements([new KeyDelta("k-" + persistenceId, seq)]), "writer-" + persistenceId);

    private IActorRef Journal => HeldJournal.Of(Sys);

    [Fact]
    public async Task Should_write_the_events_that_waited_during_a_write_in_one_journal_call()
    {
        var writer = Sys.ActorOf(ShardJournalWriterActor.Props(HeldJournal.PluginId));
        var (a, b, c) = (CreateTestProbe(), CreateTestProbe(), CreateTestProbe());

        await Journal.Ask<Done>(HeldJournal.Hold.Instance, Timeout);
        a.Send(writer, Event("set|shard-1", 1));
        await AwaitConditionAsync(async () => await Journal.Ask<int>(HeldJournal.CountHeld.Instance, Timeout) == 1, Timeout);
        b.Send(writer, Event("set|shard-2", 7));
        c.Send(writer, Event("set|shard-3", 3));
        // both are in the writer's mailbox behind nothing else: once it answers this, it has taken them
        await writer.Ask<ActorIdentity>(new Identify(null), Timeout);
        await Journal.Ask<Done>(HeldJournal.Release.Instance, Timeout);

        Assert.Equal(1, (await a.ExpectMsgAsync<ShardEventWritten>(Timeout)).Seq);
        Assert.Equal(7, (await b.ExpectMsgAsync<ShardEventWritten>(Timeout)).Seq);
        Assert.Equal(3, (await c.ExpectMsgAsync<ShardEventWritten>(Timeout)).Seq);
        Assert.Equal([["set|shard-1"], ["set|shard-2", "set|shard-3"]], await Journal.Ask<string[][]>(HeldJournal.GetWrites.Instance, Timeout));
    }

    [Fact]
    public async Task Should_tell_every_log_of_a_failed_write_and_carry_on_with_the_next()
    {
        var writer = Sys.ActorOf(ShardJournalWriterActor.Props(HeldJournal.PluginId));
        var (a, b) = (CreateTestProbe(), CreateTestProbe());

        await Journal.Ask<Done>(new HeldJournal.Fail(true), Timeout);
        await Journal.Ask<Done>(HeldJournal.Hold.Instance, Timeout);
        a.Send(writer, Event("set|shard-1", 1));
        b.Send(writer, Event("set|shard-2", 1));
        await writer.Ask<ActorIdentity>(new Identify(null), Timeout);
        await Journal.Ask<Done>(HeldJournal.Release.Instance, Timeout);
        Assert.Equal(1, (await a.ExpectMsgAsync<ShardEventFailed>(Timeout)).Seq);
        Assert.Equal(1, (await b.ExpectMsgAsync<ShardEventFailed>(Timeout)).Seq);

        await Journal.Ask<Done>(new HeldJournal.Fail(false), Timeout);
        a.Send(writer, Event("set|shard-1", 1));
        Assert.Equal(1, (await a.ExpectMsgAsync<ShardEventWritten>(Timeout)).Seq);
    }
}
