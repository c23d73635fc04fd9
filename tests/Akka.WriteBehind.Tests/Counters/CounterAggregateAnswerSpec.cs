using Akka.WriteBehind.Counters;
using Akka.WriteBehind.Tests.Support;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Counters;

/// <summary>
/// The ingest stage's own aggregates hear their answer and their envelope's confirmation in one message, in both
/// durabilities; commands with a caller of their own are answered apart from the confirmation.
/// </summary>
public abstract class CounterAggregateAnswerSpecBase(ITestOutputHelper output, string config) : CounterSpecBase(output, config)
{
    [Fact]
    public async Task Should_answer_an_aggregate_of_the_ingest_stage_with_its_confirmation_in_one_message()
    {
        // the test actor plays the ingest stage: it sends the envelopes and is the reply-to of its own aggregates
        var shards = Counters.ShardRegion; // the entities' own region, behind the ingest stage
        shards.Tell(new CounterEnvelope(new AggregatedIncrement("agg", long.MaxValue - 1, default), TestActor, 41), TestActor);
        Assert.Equal(new AggregateAnswered(41, new IncrementAccepted("agg", long.MaxValue - 1)), await ExpectMsgAsync<AggregateAnswered>(AskTimeout));

        // refused at once (nothing of the key waits for the journal): the refusal carries the confirmation too
        shards.Tell(new CounterEnvelope(new AggregatedIncrement("agg", 2, default), TestActor, 42), TestActor);
        var refused = await ExpectMsgAsync<AggregateAnswered>(AskTimeout);
        Assert.Equal(42, refused.Id);
        Assert.Equal(ErrorCode.Overflow, Assert.IsType<CounterRejected>(refused.Answer).Code);

        // a caller of its own hears its answer, and the stage the confirmation, apart
        var caller = CreateTestProbe();
        shards.Tell(new CounterEnvelope(new Increment("agg", 1), caller.Ref, 43), TestActor);
        Assert.Equal(new IncrementAccepted("agg", 1), await caller.ExpectMsgAsync<IncrementAccepted>(AskTimeout));
        Assert.Equal(new CounterEnvelopeTaken(43), await ExpectMsgAsync<CounterEnvelopeTaken>(AskTimeout));
        await ExpectNoMsgAsync(TimeSpan.FromMilliseconds(300));
        Assert.Equal(long.MaxValue, Assert.IsType<CounterValue>(await AskAsync(new GetCounter("agg"))).Total);
    }
}

public sealed class CounterAggregateAnswerSpec(ITestOutputHelper output)
    : CounterAggregateAnswerSpecBase(output, "akka.write-behind.counters.flush-interval = 1h");

public sealed class JournalCounterAggregateAnswerSpec(ITestOutputHelper output)
    : CounterAggregateAnswerSpecBase(output, Journal.Durable + "\nakka.write-behind.counters.flush-interval = 1h");
