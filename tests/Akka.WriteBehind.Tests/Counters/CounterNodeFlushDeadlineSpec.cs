using Akka.WriteBehind.Counters;
using Akka.WriteBehind.Tests.Support;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Counters;

/// <summary>
/// One node's part of a flush-all on virtual time, with a probe for the ingest stage: a key whose flush is never answered
/// fails the node's flush with <see cref="ErrorCode.Timeout"/> exactly at the request's deadline.
/// </summary>
public sealed class CounterNodeFlushDeadlineSpec(ITestOutputHelper output) : VirtualTimeSpecBase("", output)
{
    private static readonly TimeSpan FlushTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Should_fail_the_node_flush_with_a_timeout_at_its_deadline_and_not_before()
    {
        var ingest = CreateTestProbe();
        var flush = Sys.ActorOf(CounterNodeFlushActor.Props(ingest.Ref, new CounterLedger("flush-deadline"), parallelism: 4,
            new FlushNodeCounters("node-1", FlushTimeout), TestActor));
        Watch(flush);
        await ingest.ExpectMsgAsync<ListIngestKeys>(Timeout);
        flush.Tell(new IngestKeys(["answered", "never"]), ingest.Ref);
        // the keys are asked after PreStart started the deadline's timer: from here virtual time counts for it
        var asked = new[] { await ingest.ExpectMsgAsync<FlushCounter>(Timeout), await ingest.ExpectMsgAsync<FlushCounter>(Timeout) };
        Assert.Equal(["answered", "never"], asked.Select(f => f.Key).Order());
        flush.Tell(new CounterFlushed("answered", 0), ingest.Ref);

        Advance(FlushTimeout - Step);
        await ExpectNoMsgAsync(Quiet);

        Advance(Step);
        var failed = await ExpectMsgAsync<NodeCountersFlushFailed>(Timeout);
        Assert.Equal("node-1", failed.Node);
        Assert.Equal(ErrorCode.Timeout, failed.Code);
        Assert.Contains("[never]", failed.Message);
        await ExpectTerminatedAsync(flush, Timeout);
    }
}
