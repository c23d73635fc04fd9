using System.Diagnostics;
using Akka.WriteBehind.Batches;
using Akka.WriteBehind.Tests.Support;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Batches;

/// <summary>
/// The batch sender's periodic sweep on virtual time, with a probe for the shard region: a sent call whose caller's wait ran
/// out is answered <see cref="ErrorCode.Timeout"/> by the next sweep, and by nothing before it.
/// </summary>
public sealed class BatchIngestSweepSpec(ITestOutputHelper output) : VirtualTimeSpecBase("", output)
{
    private static readonly TimeSpan SweepInterval = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task Should_answer_a_sent_call_past_its_callers_wait_with_a_timeout_at_the_next_sweep_and_not_before()
    {
        var ingest = new BatchIngest();
        var region = CreateTestProbe();
        ingest.Drainer = Sys.ActorOf(BatchIngestActor.Props(ingest, region.Ref, SweepInterval));
        var run = new RunOperation("k", ingest.NewOperationId(), new Append("a"), DateTime.UtcNow.AddMinutes(1));
        // the caller's wait is over as soon as it is sent: only the sweep can answer it, the region never does
        var call = new BatchCall<TapeLength>(run, Stopwatch.GetTimestamp(), TimeSpan.FromSeconds(1),
            new BatchCallOwner("tape", () => { }), CancellationToken.None);

        ingest.Add(call);
        Assert.Equal(run.OperationId, (await region.ExpectMsgAsync<RunOperation>(Timeout)).OperationId); // sent: the sweep timer runs

        Advance(SweepInterval - Step);
        Assert.NotSame(call.Task, await Task.WhenAny(call.Task, Task.Delay(Quiet)));

        Advance(Step);
        var timedOut = await Assert.ThrowsAsync<BatchOperationException>(() => call.Task.WaitAsync(Timeout));
        Assert.Equal(ErrorCode.Timeout, timedOut.Code);
        Assert.Equal("k", timedOut.Key);
    }
}
