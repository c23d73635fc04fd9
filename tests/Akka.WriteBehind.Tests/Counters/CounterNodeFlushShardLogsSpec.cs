using System.Diagnostics;
using Akka.WriteBehind.Counters;
using Akka.WriteBehind.Tests.Support;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Counters;

/// <summary>
/// One node's part of a flush-all, with probes for the ingest stage and the node's shard logs. A log acknowledges a routed
/// increment, or replays one after a restart, before the key's counter has taken it, so for a while only the log knows the
/// key: the flush asks every log of the node and flushes those keys too, and a log that stops before it answers does not
/// hold the flush up.
/// </summary>
public sealed class CounterNodeFlushShardLogsSpec(ITestOutputHelper output) : VirtualTimeSpecBase("", output)
{
    private static readonly TimeSpan FlushTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Should_flush_the_keys_a_shard_log_lists_with_unstored_events()
    {
        var ingest = CreateTestProbe();
        var log = CreateTestProbe();
        var ledger = new CounterLedger("flush-shard-logs");
        CounterLedger.Entry? entry = null;
        ledger.Dirty("in-a-counter", Stopwatch.GetTimestamp(), 1, ref entry);
        ledger.LogStarted(log.Ref);
        var flush = Sys.ActorOf(CounterNodeFlushActor.Props(ingest.Ref, ledger, parallelism: 4,
            new FlushNodeCounters("node-1", FlushTimeout), TestActor));

        await ingest.ExpectMsgAsync<ListIngestKeys>(Timeout);
        flush.Tell(new IngestKeys(["in-the-ingest"]), ingest.Ref);
        await log.ExpectMsgAsync<ListUnstoredKeys>(Timeout);
        await ingest.ExpectNoMsgAsync(Quiet); // no flush goes out before the log has listed its keys
        flush.Tell(new UnstoredKeys(["handed-on"]), log.Ref);

        var asked = new List<string>();
        for (var i = 0; i < 3; i++)
            asked.Add((await ingest.ExpectMsgAsync<FlushCounter>(Timeout)).Key);
        Assert.Equal(["handed-on", "in-a-counter", "in-the-ingest"], asked.Order());
        foreach (var key in asked)
            flush.Tell(new CounterFlushed(key, 0), ingest.Ref);

        var flushed = await ExpectMsgAsync<NodeCountersFlushed>(Timeout);
        Assert.Equal(3, flushed.Keys);
    }

    [Fact]
    public async Task Should_go_on_without_a_shard_log_that_stopped_before_it_listed_its_keys()
    {
        var ingest = CreateTestProbe();
        var stopped = CreateTestProbe();
        var answering = CreateTestProbe();
        var ledger = new CounterLedger("flush-shard-log-stopped");
        ledger.LogStarted(stopped.Ref);
        ledger.LogStarted(answering.Ref);
        var flush = Sys.ActorOf(CounterNodeFlushActor.Props(ingest.Ref, ledger, parallelism: 4,
            new FlushNodeCounters("node-1", FlushTimeout), TestActor));

        await ingest.ExpectMsgAsync<ListIngestKeys>(Timeout);
        flush.Tell(new IngestKeys([]), ingest.Ref);
        await stopped.ExpectMsgAsync<ListUnstoredKeys>(Timeout);
        await answering.ExpectMsgAsync<ListUnstoredKeys>(Timeout);
        flush.Tell(new UnstoredKeys(["from-the-other-log"]), answering.Ref);
        await ingest.ExpectNoMsgAsync(Quiet); // still waiting for the first log
        Sys.Stop(stopped.Ref);

        Assert.Equal("from-the-other-log", (await ingest.ExpectMsgAsync<FlushCounter>(Timeout)).Key);
        flush.Tell(new CounterFlushed("from-the-other-log", 0), ingest.Ref);
        Assert.Equal(1, (await ExpectMsgAsync<NodeCountersFlushed>(Timeout)).Keys);
    }
}
