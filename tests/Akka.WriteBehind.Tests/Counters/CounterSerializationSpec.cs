using Akka.WriteBehind.Counters;
using Akka.WriteBehind.Tests.Support;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Counters;

/// <summary>Every message on the counter path goes through the serializer, as it would between nodes.</summary>
public sealed class CounterSerializationSpec(ITestOutputHelper output) : CounterSpecBase(output, """
    akka.actor.serialize-messages = on
    akka.write-behind.counters.flush-interval = 1h
    """)
{
    [Fact]
    public async Task Should_work_with_every_message_serialized()
    {
        Assert.Equal(new IncrementAccepted("ser", 5), await AskAsync(new Increment("ser", 5)));
        Assert.Equal(new CounterValue("ser", 0, 5, 5), await AskAsync(new GetCounter("ser")));
        Assert.Equal(new CounterFlushed("ser", 5), await AskAsync(new FlushCounter("ser")));
        Assert.Equal(ErrorCode.Overflow, Assert.IsType<CounterRejected>(await AskAsync(new Increment("ser", long.MaxValue))).Code);
        Assert.Equal(5, await StoredValueAsync("ser"));
    }
}
