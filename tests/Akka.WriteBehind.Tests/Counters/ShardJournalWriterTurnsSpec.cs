using Akka.Actor;
using Akka.Persistence;
using Akka.TestKit;
using Akka.WriteBehind.Counters;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Counters;

/// <summary>
/// The node's journal writer lets the shard logs' trims and writes take turns on the journal (a probe here): a trim waits
/// for the write in flight, a write waits for the trim in flight, one delete runs at a time, and every answer goes back to
/// the log that asked.
/// </summary>
public sealed class ShardJournalWriterTurnsSpec(ITestOutputHelper output) : Akka.TestKit.Xunit2.TestKit(output: output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(300);

    private static WriteShardEvent Event(string persistenceId, long seq) =>
        new(persistenceId, seq, new ShardIncrements([new KeyDelta("k-" + persistenceId, seq)]), "writer-" + persistenceId);

    /// <summary>Once the writer answers this, it has handled everything sent to it before, and told the journal what it would.</summary>
    private async Task Handled(IActorRef writer) => await writer.Ask<ActorIdentity>(new Identify(null), Timeout);

    private static void AnswerWrite(IActorRef writer, WriteMessages write)
    {
        foreach (var envelope in write.Messages)
            foreach (var persistent in (IEnumerable<IPersistentRepresentation>)((AtomicWrite)envelope).Payload)
                writer.Tell(new WriteMessageSuccess(persistent, write.ActorInstanceId));
    }

    private static string[] PersistenceIds(WriteMessages write) =>
        write.Messages.Select(m => ((AtomicWrite)m).PersistenceId).ToArray();

    [Fact]
    public async Task Should_hold_a_trim_until_the_write_in_flight_is_answered()
    {
        var journal = CreateTestProbe();
        var writer = Sys.ActorOf(ShardJournalWriterActor.Props(journal.Ref));
        var (a, b) = (CreateTestProbe(), CreateTestProbe());

        a.Send(writer, Event("set|shard-1", 5));
        var write = await journal.ExpectMsgAsync<WriteMessages>(Timeout);
        b.Send(writer, new TrimShardLog("set|shard-2", 3));
        await Handled(writer);
        await journal.ExpectNoMsgAsync(Quiet);

        AnswerWrite(writer, write);
        Assert.Equal(5, (await a.ExpectMsgAsync<ShardEventWritten>(Timeout)).Seq);
        var delete = await journal.ExpectMsgAsync<DeleteMessagesTo>(Timeout);
        Assert.Equal(("set|shard-2", 3L), (delete.PersistenceId, delete.ToSequenceNr));
        Assert.Equal(writer, delete.PersistentActor);

        writer.Tell(new DeleteMessagesSuccess(3), journal.Ref);
        Assert.Equal(3, (await b.ExpectMsgAsync<DeleteMessagesSuccess>(Timeout)).ToSequenceNr);
    }

    [Fact]
    public async Task Should_hold_a_write_until_the_trim_in_flight_is_answered()
    {
        var journal = CreateTestProbe();
        var writer = Sys.ActorOf(ShardJournalWriterActor.Props(journal.Ref));
        var (a, b) = (CreateTestProbe(), CreateTestProbe());

        b.Send(writer, new TrimShardLog("set|shard-2", 3));
        await journal.ExpectMsgAsync<DeleteMessagesTo>(Timeout);
        a.Send(writer, Event("set|shard-1", 5));
        await Handled(writer);
        await journal.ExpectNoMsgAsync(Quiet);

        writer.Tell(new DeleteMessagesFailure(new InvalidOperationException("locked"), 3), journal.Ref);
        Assert.Equal(3, (await b.ExpectMsgAsync<DeleteMessagesFailure>(Timeout)).ToSequenceNr);
        var write = await journal.ExpectMsgAsync<WriteMessages>(Timeout);
        Assert.Equal(["set|shard-1"], PersistenceIds(write));
        AnswerWrite(writer, write);
        Assert.Equal(5, (await a.ExpectMsgAsync<ShardEventWritten>(Timeout)).Seq);
    }

    [Fact]
    public async Task Should_run_one_delete_at_a_time_and_answer_each_log_its_own()
    {
        var journal = CreateTestProbe();
        var writer = Sys.ActorOf(ShardJournalWriterActor.Props(journal.Ref));
        var (b, c) = (CreateTestProbe(), CreateTestProbe());

        b.Send(writer, new TrimShardLog("set|shard-2", 7));
        c.Send(writer, new TrimShardLog("set|shard-3", 7));
        Assert.Equal("set|shard-2", (await journal.ExpectMsgAsync<DeleteMessagesTo>(Timeout)).PersistenceId);
        await Handled(writer);
        await journal.ExpectNoMsgAsync(Quiet);

        writer.Tell(new DeleteMessagesFailure(new InvalidOperationException("locked"), 7), journal.Ref);
        await b.ExpectMsgAsync<DeleteMessagesFailure>(Timeout);
        Assert.Equal("set|shard-3", (await journal.ExpectMsgAsync<DeleteMessagesTo>(Timeout)).PersistenceId);
        writer.Tell(new DeleteMessagesSuccess(7), journal.Ref);
        await c.ExpectMsgAsync<DeleteMessagesSuccess>(Timeout);
        await b.ExpectNoMsgAsync(Quiet);
    }

    [Fact]
    public async Task Should_take_turns_so_that_neither_writes_nor_trims_wait_for_all_of_the_other()
    {
        var journal = CreateTestProbe();
        var writer = Sys.ActorOf(ShardJournalWriterActor.Props(journal.Ref));
        var (a, b, c) = (CreateTestProbe(), CreateTestProbe(), CreateTestProbe());

        a.Send(writer, Event("set|shard-1", 5));
        var first = await journal.ExpectMsgAsync<WriteMessages>(Timeout);
        b.Send(writer, new TrimShardLog("set|shard-2", 3));
        c.Send(writer, new TrimShardLog("set|shard-3", 4));
        a.Send(writer, Event("set|shard-1", 6));
        b.Send(writer, Event("set|shard-2", 9));
        await Handled(writer);

        // the write is answered: a trim goes before the writes that waited
        AnswerWrite(writer, first);
        Assert.Equal("set|shard-2", (await journal.ExpectMsgAsync<DeleteMessagesTo>(Timeout)).PersistenceId);
        await journal.ExpectNoMsgAsync(Quiet);

        // the trim is answered: the writes that waited go together, before the other trim
        writer.Tell(new DeleteMessagesSuccess(3), journal.Ref);
        var second = await journal.ExpectMsgAsync<WriteMessages>(Timeout);
        Assert.Equal(["set|shard-1", "set|shard-2"], PersistenceIds(second));
        await journal.ExpectNoMsgAsync(Quiet);

        AnswerWrite(writer, second);
        Assert.Equal("set|shard-3", (await journal.ExpectMsgAsync<DeleteMessagesTo>(Timeout)).PersistenceId);
        writer.Tell(new DeleteMessagesSuccess(4), journal.Ref);
        Assert.Equal(3, (await b.ExpectMsgAsync<DeleteMessagesSuccess>(Timeout)).ToSequenceNr);
        Assert.Equal(4, (await c.ExpectMsgAsync<DeleteMessagesSuccess>(Timeout)).ToSequenceNr);
        await journal.ExpectNoMsgAsync(Quiet);
    }
}
