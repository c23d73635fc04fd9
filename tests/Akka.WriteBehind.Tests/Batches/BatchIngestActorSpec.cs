using Akka.WriteBehind.Batches;
using Akka.WriteBehind.Tests.Support;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Batches;

/// <summary>The ingest stage's actor sends a key's calls as one group and answers a call it could not track at once.</summary>
public sealed class BatchIngestActorSpec(ITestOutputHelper output) : Akka.TestKit.Xunit2.TestKit(output: output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Should_send_its_own_calls_and_answer_a_call_whose_id_it_did_not_make()
    {
        var ingest = new BatchIngest();
        var region = CreateTestProbe();
        var caller = CreateTestProbe();
        var actor = Sys.ActorOf(BatchIngestActor.Props(ingest, region.Ref, TimeSpan.FromMinutes(1)));
        ingest.Drainer = actor;
        var deadline = DateTime.UtcNow.AddMinutes(1);
        var own = new BatchCall(new RunOperation("k", ingest.NewOperationId(), new Append("a"), deadline), long.MaxValue, Timeout)
            { ReplyTo = caller.Ref };
        var foreign = new BatchCall(new RunOperation("k", Guid.NewGuid(), new Append("b"), deadline), long.MaxValue, Timeout)
            { ReplyTo = caller.Ref };

        ingest.Add(own);
        ingest.Add(foreign);

        var refused = await caller.ExpectMsgAsync<OperationFailed>(Timeout);
        Assert.Equal(foreign.Run.OperationId, refused.OperationId);
        Assert.Equal(ErrorCode.InvalidArgument, refused.Code);
        var sent = await region.ExpectMsgAsync<RunOperations>(Timeout);
        Assert.Equal([own.Run.OperationId], sent.Operations!.Select(o => o.OperationId));

        actor.Tell(new OperationSucceeded("k", own.Run.OperationId, new TapeLength(1)), region.Ref);
        Assert.Equal(own.Run.OperationId, (await caller.ExpectMsgAsync<OperationSucceeded>(Timeout)).OperationId);
    }
}
