using Akka.WriteBehind.Counters;
using Akka.WriteBehind.Tests.Support;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Counters;

public sealed class CounterReadYourWritesSpec(ITestOutputHelper output)
    : CounterSpecBase(output, "akka.write-behind.counters.flush-interval = 1h")
{
    [Fact]
    public async Task Should_include_unflushed_increments_in_the_total()
    {
        Assert.Equal(new IncrementAccepted("ryw", 5), await AskAsync(new Increment("ryw", 5)));
        Assert.Equal(new CounterValue("ryw", 0, 5, 5), await AskAsync(new GetCounter("ryw")));

        Assert.Equal(new CounterFlushed("ryw", 5), await AskAsync(new FlushCounter("ryw")));
        Assert.Equal(new CounterValue("ryw", 5, 0, 5), await AskAsync(new GetCounter("ryw")));

        await AskAsync(new Increment("ryw", -2));
        Assert.Equal(new CounterValue("ryw", 5, -2, 3), await AskAsync(new GetCounter("ryw")));
        Assert.Equal(5, await StoredValueAsync("ryw"));
    }

    [Fact]
    public async Task Should_see_tells_from_the_same_sender_before_a_later_read()
    {
        for (var i = 0; i < 1000; i++)
            Region.Tell(new Increment("ordered", 3), TestActor);
        Region.Tell(new GetCounter("ordered"), TestActor);

        for (var i = 0; i < 1000; i++)
            await ExpectMsgAsync<IncrementAccepted>(AskTimeout);
        var value = await ExpectMsgAsync<CounterValue>(AskTimeout);
        Assert.Equal(3000, value.Total);
    }

    [Fact]
    public async Task Should_load_the_stored_value_of_an_existing_row()
    {
        await Target.ApplyAsync([new CounterWrite("existing", 40, 7)]);

        await AskAsync(new Increment("existing", 2));

        Assert.Equal(new CounterValue("existing", 40, 2, 42), await AskAsync(new GetCounter("existing")));
        Assert.Equal(new CounterFlushed("existing", 42), await AskAsync(new FlushCounter("existing")));
        var row = (await Target.ReadAsync(["existing"]))["existing"];
        Assert.Equal(new StoredCounter(42, 8), row);
    }
}
