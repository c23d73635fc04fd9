using Akka.Actor;
using Akka.TestKit;
using Akka.WriteBehind.Batches;
using Akka.WriteBehind.Tests.Support;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Batches;

/// <summary>
/// An entity answers an operation its own node's grouping stage sent by completing the stage's call on the spot (no reply
/// message back to the stage); an operation that was serialized on its way (another node, or serialize-messages) carries no
/// call and is answered to its sender as before.
/// </summary>
public sealed class BatchLocalReplySpec(ITestOutputHelper output) : TapeSpecBase(output, """
    akka.write-behind.batches.types.tapes {
      min-duration = 100ms
      max-duration = 10s
    }
    """)
{
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(500);

    [Fact]
    public async Task Should_answer_the_call_of_a_local_operation_and_not_its_sender()
    {
        var caller = CreateTestProbe();
        var sender = CreateTestProbe();
        var run = Local("local", "a", caller);

        Processor.ShardRegion.Tell(run, sender);

        Assert.Equal(run.OperationId, (await caller.ExpectMsgAsync<OperationSucceeded>(AwaitTimeout)).OperationId);
        await sender.ExpectNoMsgAsync(Quiet);
    }

    [Fact]
    public async Task Should_answer_each_call_of_a_local_group_on_its_own_and_send_no_grouped_reply()
    {
        var caller = CreateTestProbe();
        var sender = CreateTestProbe();
        var first = Local("group", "a", caller);
        var second = Local("group", "b", caller);

        Processor.ShardRegion.Tell(new RunOperations("group", [first, second]) { GroupReplies = true }, sender);

        var answers = new[] { await caller.ExpectMsgAsync<OperationSucceeded>(AwaitTimeout), await caller.ExpectMsgAsync<OperationSucceeded>(AwaitTimeout) };
        Assert.Equal([first.OperationId, second.OperationId], answers.Select(a => a.OperationId));
        Assert.Equal([new TapeLength(1), new TapeLength(2)], answers.Select(a => a.Result));
        await sender.ExpectNoMsgAsync(Quiet);
    }

    [Fact]
    public async Task Should_answer_the_sender_of_an_operation_that_was_serialized_on_its_way()
    {
        var caller = CreateTestProbe();
        var sender = CreateTestProbe();
        var run = Local("remote", "a", caller);
        var serializer = Sys.Serialization.FindSerializerFor(run); // what carries it to another node
        var copy = Assert.IsType<RunOperation>(serializer.FromBinary(serializer.ToBinary(run), typeof(RunOperation)));
        Assert.Null(copy.LocalCall); // the call never leaves its process
        Assert.Equal(run.OperationId, copy.OperationId);

        Processor.ShardRegion.Tell(copy, sender);

        Assert.Equal(run.OperationId, (await sender.ExpectMsgAsync<OperationSucceeded>(AwaitTimeout)).OperationId);
        await caller.ExpectNoMsgAsync(Quiet);
    }

    [Fact]
    public async Task Should_forget_the_calls_its_entities_answered()
    {
        var ingest = new BatchIngest();
        var region = CreateTestProbe();
        var stage = ActorOfAsTestActorRef<BatchIngestActor>(BatchIngestActor.Props(ingest, region.Ref, TimeSpan.FromHours(1)));
        ingest.Drainer = stage;
        var caller = CreateTestProbe();
        var calls = Enumerable.Range(0, 20_000).Select(i => new BatchCall(
            new RunOperation($"k{i % 100}", ingest.NewOperationId(), new Append("a"), DateTime.UtcNow.AddMinutes(1)), long.MaxValue,
            AwaitTimeout) { ReplyTo = caller.Ref }).ToList();

        foreach (var call in calls)
        {
            ingest.Add(call);
            stage.Tell(DrainBatchCalls.Instance); // sent now: tracked until answered
            call.Answer(new OperationSucceeded(call.Run.Key, call.Run.OperationId, new TapeLength(1))); // as its entity does
        }

        // answered in this process, so no reply comes back by message: the stage drops them as it tracks more, and at a sweep
        Assert.InRange(stage.UnderlyingActor.Tracked, 0, 10_000);
        stage.Tell(SweepBatchCalls.Instance);
        Assert.Equal(0, stage.UnderlyingActor.Tracked);
    }

    private RunOperation Local(string key, string entry, TestProbe caller)
    {
        var run = new RunOperation(key, Guid.NewGuid(), new Append(entry), DateTime.UtcNow.AddMinutes(1));
        run.LocalCall = new BatchCall(run, long.MaxValue, AwaitTimeout) { ReplyTo = caller.Ref };
        return run;
    }
}
