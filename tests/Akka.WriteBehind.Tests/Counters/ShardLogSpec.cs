using System.Collections.Immutable;
using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit;
using Akka.WriteBehind.Counters;
using Akka.WriteBehind.Tests.Support;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Counters;

/// <summary>
/// A shard log on a real SQLite journal, with probes as its counters and its shard region, when a key's counter stops and
/// the next one attaches: the next one gets every delta of the one before that the journal holds and its row may not, from
/// the journal or as the log's answer comes, and nothing is woken for a key that has a counter; and a counter closing its
/// route hears that it is closed only once every delta taken through the route has reached it.
/// </summary>
public sealed class ShardLogSpec : Akka.TestKit.Xunit2.TestKit
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);
    private readonly TempDirectory _dir;

    public ShardLogSpec(ITestOutputHelper output) : this(new TempDirectory(), output)
    {
    }

    private ShardLogSpec(TempDirectory dir, ITestOutputHelper output)
        : base(JournalDurability.Config(Path.Combine(dir.Path, "journal.db")).WithFallback(WriteBehindConfig.DefaultConfig()), output: output)
    {
        _dir = dir;
    }

    [Fact]
    public async Task Should_read_the_journal_for_a_counter_that_replaces_one_whose_stop_it_has_not_heard_of()
    {
        var region = CreateTestProbe();
        var log = StartLog(Sys.ActorOf(ShardJournalWriterActor.Props(Settings.Journal.PluginId)), region.Ref);
        var (before, other, next) = (CreateTestProbe(), CreateTestProbe(), CreateTestProbe());

        // the counter before: two deltas journaled, none stored (it never reports a row); another key's delta between them
        Assert.Empty(await AttachAsync(before, log, "k"));
        await AttachAsync(other, log, "j");
        before.Send(log, new JournalDelta("k", 5));
        Assert.Equal(1, (await before.ExpectMsgAsync<DeltaJournaled>(Timeout)).Seq);
        other.Send(log, new JournalDelta("j", 100));
        Assert.Equal(2, (await other.ExpectMsgAsync<DeltaJournaled>(Timeout)).Seq);
        before.Send(log, new JournalDelta("k", 2));
        Assert.Equal(3, (await before.ExpectMsgAsync<DeltaJournaled>(Timeout)).Seq);

        // the key's next counter attaches from an empty row while the log still counts the one before as attached
        Assert.Equal([(1L, 5L), (3L, 2L)], (await AttachAsync(next, log, "k")).Select(e => (e.Seq, e.Delta)).ToArray());

        // now the log hears of the stop: the key has a counter, which took everything, so nothing is woken
        Watch(before.Ref);
        Sys.Stop(before.Ref);
        await ExpectTerminatedAsync(before.Ref, Timeout);
        next.Send(log, new JournalDelta("k", 1));
        Assert.Equal(4, (await next.ExpectMsgAsync<DeltaJournaled>(Timeout)).Seq); // the log carries on with the new counter
        await region.ExpectNoMsgAsync(TimeSpan.FromSeconds(2)); // the rewake after a wake comes 1 s later
    }

    [Fact]
    public async Task Should_hand_a_stopped_counter_s_journaled_delta_to_the_key_s_next_counter()
    {
        var writer = CreateTestProbe(); // the node's journal writer: the test answers the write when it wants
        var log = StartLog(writer.Ref, CreateTestProbe().Ref);
        var (before, next) = (CreateTestProbe(), CreateTestProbe());

        await AttachAsync(before, log, "k");
        var requests = ImmutableArray.Create(new RequestDelta("order-17", 2));
        before.Send(log, new JournalDelta("k", 5, requests));
        var write = await writer.ExpectMsgAsync<WriteShardEvent>(Timeout);

        // the counter stops with its delta in the write, and the key's next counter attaches before the write is answered
        Watch(before.Ref);
        Sys.Stop(before.Ref);
        await ExpectTerminatedAsync(before.Ref, Timeout);
        Assert.Empty(await AttachAsync(next, log, "k"));

        log.Tell(new ShardEventWritten(write.Seq), writer.Ref);
        var handed = await next.ExpectMsgAsync<RoutedDeltaJournaled>(Timeout);
        Assert.Equal((write.Seq, 5L), (handed.Seq, handed.Delta));
        Assert.Equal(requests.ToArray(), handed.Requests.ToArray()); // the ids go with it: a retry of them is not counted again
    }

    [Fact]
    public async Task Should_refuse_a_route_offered_by_a_counter_the_key_has_replaced()
    {
        var log = StartLog(CreateTestProbe().Ref, CreateTestProbe().Ref);
        var (before, next, ingest) = (CreateTestProbe(), CreateTestProbe(), CreateTestProbe());
        await AttachAsync(before, log, "k");
        await AttachAsync(next, log, "k"); // the log has not heard of the stop of the counter before

        // its offer comes late: a route to it would hand the key's persisted deltas to a counter that is going away
        before.Send(log, new OfferRoute("k", ingest.Ref, 1, 0, new CounterRouteInbox()));
        Assert.Equal(new CounterRouteClosed("k", 1), await before.ExpectMsgAsync<CounterRouteClosed>(Timeout));

        next.Send(log, new OfferRoute("k", ingest.Ref, 2, 0, new CounterRouteInbox()));
        Assert.Equal("k", (await ingest.ExpectMsgAsync<RouteOpened>(Timeout)).Key); // the key's counter gets one
    }

    [Fact]
    public async Task Should_tell_a_counter_its_route_is_closed_only_after_every_delta_taken_through_it()
    {
        var writer = CreateTestProbe(); // the node's journal writer: the test answers the write when it wants
        var log = StartLog(writer.Ref, CreateTestProbe().Ref);
        var (counter, ingest) = (CreateTestProbe(), CreateTestProbe());

        var inbox = await OpenRouteAsync(counter, ingest, log, "k");
        ingest.Send(log, new RoutedIncrements(1, ["k"], [3], [2]));
        var write = await writer.ExpectMsgAsync<WriteShardEvent>(Timeout);
        Assert.Equal(new RoutedPersisting(1), await ingest.ExpectMsgAsync<RoutedPersisting>(Timeout)); // in this write

        // the counter closes its route (it is about to stop) while a delta taken through it is in the write
        counter.Send(log, new CloseRoute("k", 1));
        Assert.Equal(new RouteClosed("k"), await ingest.ExpectMsgAsync<RouteClosed>(Timeout)); // nothing more is routed
        log.Tell(new ShardEventWritten(write.Seq), writer.Ref);

        // the delta first: a counter that stopped at the close would leave it for a next incarnation, woken at once
        await counter.ExpectMsgAsync<RoutedInboxFilled>(Timeout);
        Assert.Equal(new CounterRouteClosed("k", 1), await counter.ExpectMsgAsync<CounterRouteClosed>(Timeout));
        Assert.True(inbox.TryTake(out var handed));
        Assert.Equal((write.Seq, 3L, 2L), (handed.Seq, handed.Delta, handed.Increments));
        Assert.Equal(1, (await ingest.ExpectMsgAsync<RoutedAnswers>(Timeout)).BatchId); // and the increments acknowledged
    }

    [Fact]
    public async Task Should_tell_a_routed_counter_once_for_every_event_it_has_not_taken_from_its_inbox()
    {
        var writer = CreateTestProbe(); // the node's journal writer: the test answers the write when it wants
        var log = StartLog(writer.Ref, CreateTestProbe().Ref);
        var (counter, ingest) = (CreateTestProbe(), CreateTestProbe());

        var inbox = await OpenRouteAsync(counter, ingest, log, "k");

        // three events through the route, the counter (a probe) taking nothing: one message, for the first
        var seqs = new List<long>();
        for (var batch = 1; batch <= 3; batch++)
        {
            ingest.Send(log, new RoutedIncrements(batch, ["k"], [batch], [1]));
            var write = await writer.ExpectMsgAsync<WriteShardEvent>(Timeout);
            await ingest.ExpectMsgAsync<RoutedPersisting>(Timeout);
            log.Tell(new ShardEventWritten(write.Seq), writer.Ref);
            Assert.Equal(batch, (await ingest.ExpectMsgAsync<RoutedAnswers>(Timeout)).BatchId); // acknowledged
            seqs.Add(write.Seq);
        }

        await counter.ExpectMsgAsync<RoutedInboxFilled>(Timeout);
        Assert.True(inbox.TryTake(out var taken));
        Assert.Equal((seqs[^1], 1L + 2 + 3, 3L), (taken.Seq, taken.Delta, taken.Increments));
        await counter.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(300));

        // taken: the next event's delta is told again
        ingest.Send(log, new RoutedIncrements(4, ["k"], [4], [1]));
        log.Tell(new ShardEventWritten((await writer.ExpectMsgAsync<WriteShardEvent>(Timeout)).Seq), writer.Ref);
        await counter.ExpectMsgAsync<RoutedInboxFilled>(Timeout);
    }

    [Fact]
    public async Task Should_keep_a_routed_delta_for_the_key_s_next_counter_when_the_route_s_counter_stopped_before_the_write_was_answered()
    {
        var writer = CreateTestProbe(); // the node's journal writer: the test answers the write when it wants
        var region = CreateTestProbe();
        var log = StartLog(writer.Ref, region.Ref);
        var (before, next, ingest) = (CreateTestProbe(), CreateTestProbe(), CreateTestProbe());

        var inbox = await OpenRouteAsync(before, ingest, log, "k");
        ingest.Send(log, new RoutedIncrements(1, ["k"], [3], [2]));
        var write = await writer.ExpectMsgAsync<WriteShardEvent>(Timeout);
        await ingest.ExpectMsgAsync<RoutedPersisting>(Timeout);

        // the route's counter dies with the delta in the write: its inbox is gone with it
        Watch(before.Ref);
        Sys.Stop(before.Ref);
        await ExpectTerminatedAsync(before.Ref, Timeout);
        await ingest.ExpectMsgAsync<RouteClosed>(Timeout); // the log heard of the stop
        log.Tell(new ShardEventWritten(write.Seq), writer.Ref);
        Assert.Equal(1, (await ingest.ExpectMsgAsync<RoutedAnswers>(Timeout)).BatchId); // acknowledged

        // kept for the key, which is woken; its next counter takes the delta when it attaches
        Assert.Equal(new WakeCounter("k"), await region.ExpectMsgAsync<WakeCounter>(Timeout));
        Assert.False(inbox.TryTake(out _));
        Assert.Equal([(write.Seq, 3L)], (await AttachAsync(next, log, "k")).Select(e => (e.Seq, e.Delta)).ToArray());
    }

    [Fact]
    public async Task Should_list_a_routed_key_as_unstored_once_acknowledged_and_leave_the_node_s_logs_when_it_stops()
    {
        var writer = CreateTestProbe(); // the node's journal writer: the test answers the write when it wants
        var ledger = new CounterLedger("set");
        var log = StartLog(writer.Ref, CreateTestProbe().Ref, ledger);
        var (counter, ingest) = (CreateTestProbe(), CreateTestProbe());

        await OpenRouteAsync(counter, ingest, log, "k");
        Assert.Contains(log, ledger.Logs); // a flush-all on this node asks it
        ingest.Send(log, new RoutedIncrements(1, ["k"], [3], [2]));
        log.Tell(new ShardEventWritten((await writer.ExpectMsgAsync<WriteShardEvent>(Timeout)).Seq), writer.Ref);
        await ingest.ExpectMsgAsync<RoutedPersisting>(Timeout);
        await ingest.ExpectMsgAsync<RoutedAnswers>(Timeout);

        // acknowledged, and the counter (a probe) never takes the delta: only the log knows the key is unstored
        log.Tell(ListUnstoredKeys.Instance, TestActor);
        Assert.Equal(["k"], (await ExpectMsgAsync<UnstoredKeys>(Timeout)).Keys.ToArray());

        Watch(log);
        Sys.Stop(log);
        await ExpectTerminatedAsync(log, Timeout);
        Assert.DoesNotContain(log, ledger.Logs);
    }

    private static CounterSettings Settings { get; } =
        CounterSettings.FromConfig(WriteBehindConfig.DefaultConfig().GetConfig(CounterSettings.ConfigPath));

    /// <summary>The log of shard 1, writing through <paramref name="writer"/> and waking keys through <paramref name="region"/>.</summary>
    private IActorRef StartLog(IActorRef writer, IActorRef region, CounterLedger? ledger = null) =>
        Sys.ActorOf(ShardJournalActor.Props("1", Settings, ledger ?? new CounterLedger("set"), writer, region));

    /// <summary>Attaches <paramref name="counter"/> for <paramref name="key"/> and opens its route (number 1) for <paramref name="ingest"/>.</summary>
    private static async Task<CounterRouteInbox> OpenRouteAsync(TestProbe counter, TestProbe ingest, IActorRef log, string key)
    {
        await AttachAsync(counter, log, key);
        var inbox = new CounterRouteInbox();
        counter.Send(log, new OfferRoute(key, ingest.Ref, 1, 0, inbox));
        await ingest.ExpectMsgAsync<RouteOpened>(Timeout);
        return inbox;
    }

    /// <summary><paramref name="counter"/> attaches for <paramref name="key"/> from an empty row; the events the log hands it.</summary>
    private static async Task<ImmutableArray<JournaledDelta>> AttachAsync(TestProbe counter, IActorRef log, string key)
    {
        counter.Send(log, new AttachToJournal("1", key, 0));
        return (await counter.ExpectMsgAsync<JournalAttached>(Timeout)).Events;
    }

    protected override void AfterAll()
    {
        base.AfterAll();
        _dir.Dispose();
    }
}
