using Akka.Actor;
using Akka.Configuration;
using Akka.WriteBehind.Counters;
using Akka.WriteBehind.Tests.Support;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Counters;

/// <summary>
/// A shard log on a real SQLite journal, with probes as its counters and its shard region: a counter that attaches while
/// the log still has the key's counter before it attached (its stop not heard of yet) gets that counter's unstored deltas
/// from the journal, and the stop, when the log hears of it, wakes nobody.
/// </summary>
public sealed class ShardLogAttachSpec : Akka.TestKit.Xunit2.TestKit
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);
    private readonly TempDirectory _dir;

    public ShardLogAttachSpec(ITestOutputHelper output) : this(new TempDirectory(), output)
    {
    }

    private ShardLogAttachSpec(TempDirectory dir, ITestOutputHelper output)
        : base(JournalDurability.Config(Path.Combine(dir.Path, "journal.db")).WithFallback(WriteBehindConfig.DefaultConfig()), output: output)
    {
        _dir = dir;
    }

    [Fact]
    public async Task Should_read_the_journal_for_a_counter_that_replaces_one_whose_stop_it_has_not_heard_of()
    {
        var settings = CounterSettings.FromConfig(WriteBehindConfig.DefaultConfig().GetConfig(CounterSettings.ConfigPath));
        var region = CreateTestProbe();
        var writer = Sys.ActorOf(ShardJournalWriterActor.Props(settings.Journal.PluginId));
        var log = Sys.ActorOf(ShardJournalActor.Props("1", settings, new CounterLedger("set"), writer, region.Ref));
        var (before, other, next) = (CreateTestProbe(), CreateTestProbe(), CreateTestProbe());

        // the counter before: two deltas journaled, none stored (it never reports a row); another key's delta between them
        before.Send(log, new AttachToJournal("1", "k", 0));
        Assert.Empty((await before.ExpectMsgAsync<JournalAttached>(Timeout)).Events);
        other.Send(log, new AttachToJournal("1", "j", 0));
        await other.ExpectMsgAsync<JournalAttached>(Timeout);
        before.Send(log, new JournalDelta("k", 5));
        Assert.Equal(1, (await before.ExpectMsgAsync<DeltaJournaled>(Timeout)).Seq);
        other.Send(log, new JournalDelta("j", 100));
        Assert.Equal(2, (await other.ExpectMsgAsync<DeltaJournaled>(Timeout)).Seq);
        before.Send(log, new JournalDelta("k", 2));
        Assert.Equal(3, (await before.ExpectMsgAsync<DeltaJournaled>(Timeout)).Seq);

        // the key's next counter attaches from an empty row while the log still counts the one before as attached
        next.Send(log, new AttachToJournal("1", "k", 0));
        var attached = await next.ExpectMsgAsync<JournalAttached>(Timeout);
        Assert.Equal([(1L, 5L), (3L, 2L)], attached.Events.Select(e => (e.Seq, e.Delta)).ToArray());

        // now the log hears of the stop: the key has a counter, which took everything, so nothing is woken
        Watch(before.Ref);
        Sys.Stop(before.Ref);
        await ExpectTerminatedAsync(before.Ref, Timeout);
        next.Send(log, new JournalDelta("k", 1));
        Assert.Equal(4, (await next.ExpectMsgAsync<DeltaJournaled>(Timeout)).Seq); // the log carries on with the new counter
        await region.ExpectNoMsgAsync(TimeSpan.FromSeconds(2)); // the rewake after a wake comes 1 s later
    }

    protected override void AfterAll()
    {
        base.AfterAll();
        _dir.Dispose();
    }
}
