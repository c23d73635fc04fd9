using Akka.WriteBehind.Counters;
using Akka.WriteBehind.Tests.Support;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Counters;

public sealed class CounterValidationSpec(ITestOutputHelper output)
    : CounterSpecBase(output, "akka.write-behind.counters.flush-interval = 1h")
{
    public static TheoryData<string> InvalidKeys => new()
    {
        "",
        "tab\there",
        "nul\0",
        "\u0001",
        new string('k', KeyRules.MaxKeyBytes + 1),
        new string('é', KeyRules.MaxKeyBytes / 2 + 1), // 2 UTF-8 bytes each: 258 bytes in 129 chars
    };

    [Theory]
    [MemberData(nameof(InvalidKeys))]
    public async Task Should_refuse_invalid_keys_for_every_command(string key)
    {
        foreach (ICounterCommand command in new ICounterCommand[] { new Increment(key, 1), new GetCounter(key), new FlushCounter(key) })
        {
            var rejected = Assert.IsType<CounterRejected>(await AskAsync(command));
            Assert.Equal(ErrorCode.InvalidKey, rejected.Code);
            Assert.Equal(key, rejected.Key);
        }
    }

    [Fact]
    public async Task Should_accept_a_key_of_exactly_256_utf8_bytes()
    {
        var key = new string('é', KeyRules.MaxKeyBytes / 2);
        Assert.IsType<IncrementAccepted>(await AskAsync(new Increment(key, 1)));
        Assert.Equal(new CounterFlushed(key, 1), await AskAsync(new FlushCounter(key)));
    }

    [Fact]
    public async Task Should_refuse_an_increment_that_overflows_and_keep_the_total()
    {
        Assert.IsType<IncrementAccepted>(await AskAsync(new Increment("big", long.MaxValue)));

        var rejected = Assert.IsType<CounterRejected>(await AskAsync(new Increment("big", 1)));
        Assert.Equal(ErrorCode.Overflow, rejected.Code);
        Assert.Equal(long.MaxValue, Assert.IsType<CounterValue>(await AskAsync(new GetCounter("big"))).Total);

        // the overflow is checked against stored + pending, not just the pending sum
        Assert.Equal(new CounterFlushed("big", long.MaxValue), await AskAsync(new FlushCounter("big")));
        Assert.Equal(ErrorCode.Overflow, Assert.IsType<CounterRejected>(await AskAsync(new Increment("big", 1))).Code);
        Assert.IsType<IncrementAccepted>(await AskAsync(new Increment("big", -1)));
        Assert.Equal(long.MaxValue - 1, Assert.IsType<CounterValue>(await AskAsync(new GetCounter("big"))).Total);
    }

    [Fact]
    public async Task Should_refuse_an_increment_that_underflows()
    {
        Assert.IsType<IncrementAccepted>(await AskAsync(new Increment("small", long.MinValue)));
        Assert.Equal(ErrorCode.Overflow, Assert.IsType<CounterRejected>(await AskAsync(new Increment("small", -1))).Code);
        Assert.Equal(long.MinValue, Assert.IsType<CounterValue>(await AskAsync(new GetCounter("small"))).Total);
    }

    [Fact]
    public async Task Should_refuse_a_pending_sum_that_overflows_even_when_the_total_fits()
    {
        // stored = -10, pending would be MaxValue + 1: the total fits in 64 bits, the delta to write does not
        await AskAsync(new Increment("split", -10));
        await AskAsync(new FlushCounter("split"));
        Assert.IsType<IncrementAccepted>(await AskAsync(new Increment("split", long.MaxValue)));

        Assert.Equal(ErrorCode.Overflow, Assert.IsType<CounterRejected>(await AskAsync(new Increment("split", 1))).Code);
    }
}
