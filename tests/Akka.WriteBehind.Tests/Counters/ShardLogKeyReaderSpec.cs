using System.Collections.Immutable;
using Akka.Actor;
using Akka.Persistence;
using Akka.WriteBehind.Counters;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Counters;

/// <summary>
/// The read of one key's deltas from a range of its shard log's events (a probe is the journal): only the key's deltas,
/// with their events' sequence numbers and request ids, and a failure the log hears as such.
/// </summary>
public sealed class ShardLogKeyReaderSpec(ITestOutputHelper output) : Akka.TestKit.Xunit2.TestKit(output: output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    private static ReplayedMessage Event(long seq, params KeyDelta[] deltas) =>
        new(new Persistent(new ShardIncrements(deltas.ToImmutableArray()), seq, "set|shard-1"));

    [Fact]
    public async Task Should_hand_the_log_only_the_key_s_deltas_of_the_range_read()
    {
        var journal = CreateTestProbe();
        var counter = CreateTestProbe().Ref;
        var reader = ChildActorOf(ShardLogKeyReader.Props(journal.Ref, "set|shard-1", "k", counter, 4, 9, Timeout));

        var replay = await journal.ExpectMsgAsync<ReplayMessages>(Timeout);
        Assert.Equal(("set|shard-1", 4L, 9L), (replay.PersistenceId, replay.FromSequenceNr, replay.ToSequenceNr));
        var requests = ImmutableArray.Create(new RequestDelta("order-17", 2));
        reader.Tell(Event(4, new KeyDelta("other", 1), new KeyDelta("k", 3)));
        reader.Tell(Event(7, new KeyDelta("other", 5)));
        reader.Tell(Event(9, new KeyDelta("k", 2, requests)));
        reader.Tell(new RecoverySuccess(9));

        var read = await ExpectMsgAsync<KeyEventsRead>(Timeout);
        Assert.Equal(("k", counter), (read.Key, read.Counter));
        Assert.Equal([new JournaledDelta(4, 3), new JournaledDelta(9, 2, requests)], read.Events.ToArray());
    }

    [Fact]
    public async Task Should_answer_at_once_when_the_range_is_empty()
    {
        var journal = CreateTestProbe();
        ChildActorOf(ShardLogKeyReader.Props(journal.Ref, "set|shard-1", "k", TestActor, 10, 9, Timeout));
        Assert.Empty((await ExpectMsgAsync<KeyEventsRead>(Timeout)).Events);
        await journal.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(300));
    }

    [Fact]
    public async Task Should_tell_the_log_when_the_journal_fails_the_read()
    {
        var journal = CreateTestProbe();
        var reader = ChildActorOf(ShardLogKeyReader.Props(journal.Ref, "set|shard-1", "k", TestActor, 1, 9, Timeout));
        await journal.ExpectMsgAsync<ReplayMessages>(Timeout);
        reader.Tell(new ReplayMessagesFailure(new InvalidOperationException("database is locked")));
        Assert.Equal("database is locked", (await ExpectMsgAsync<KeyEventsReadFailed>(Timeout)).Cause.Message);
    }
}
