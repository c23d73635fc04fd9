using Akka.Actor;
using Akka.Event;
using Akka.WriteBehind.Counters;
using Akka.WriteBehind.Tests.Support;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Counters;

public sealed class CounterBurstSpec(ITestOutputHelper output) : CounterSpecBase(output)
{
    private readonly List<object> _deadLetters = new();

    public override async Task InitializeAsync()
    {
        var listener = Sys.ActorOf(Props.Create(() => new DeadLetterCollector(_deadLetters)));
        Sys.EventStream.Subscribe(listener, typeof(AllDeadLetters));
        await base.InitializeAsync();
    }

    [Fact]
    public async Task Should_not_drop_a_burst_of_200000_increments_on_50000_new_keys_right_after_start()
    {
        const int keys = 50_000;
        const int increments = 200_000;

        // fire-and-forget, as fast as one thread can send, straight after the region started
        for (var i = 0; i < increments; i++)
            Region.Tell(new Increment($"burst-{i % keys}", i % 7 + 1));

        long expectedSum = 0;
        for (var i = 0; i < increments; i++)
            expectedSum += i % 7 + 1;

        await AwaitAssertAsync(async () =>
        {
            var (rows, sum) = await Database.CountAndSumAsync();
            Assert.Equal((keys, expectedSum), (rows, sum));
        }, TimeSpan.FromSeconds(180), TimeSpan.FromSeconds(1)); // 50,000 entity starts and loads: minutes on a loaded 2-core box

        var stored = await Database.ReadCountersAsync();
        for (var k = 0; k < keys; k++)
        {
            long expected = 0;
            for (var i = k; i < increments; i += keys)
                expected += i % 7 + 1;
            Assert.Equal(expected, stored[$"burst-{k}"]);
        }

        lock (_deadLetters)
            Assert.DoesNotContain(_deadLetters, m => m is CounterEnvelope or ICounterCommand);
    }

    private sealed class DeadLetterCollector : ReceiveActor
    {
        public DeadLetterCollector(List<object> collected)
        {
            Receive<AllDeadLetters>(d =>
            {
                lock (collected)
                    collected.Add(d.Message);
            });
        }
    }
}

public sealed class CounterSaturationSpec : CounterSpecBase
{
    private readonly GatedStore _gated;

    public CounterSaturationSpec(ITestOutputHelper output) : base(output, """
        akka.write-behind.counters.ingest { max-outstanding = 1, buffer-size = 5 }
        """)
    {
        _gated = new GatedStore(Target);
        Store = _gated;
    }

    [Fact]
    public async Task Should_refuse_with_saturated_when_the_ingest_buffer_is_full_and_lose_nothing_accepted()
    {
        // the entity cannot load while the gate is shut: 1 message in flight, 5 queued, the 7th is refused at once
        for (var i = 0; i < 7; i++)
            Region.Tell(new Increment("gated", 1), TestActor);

        var rejected = await ExpectMsgAsync<CounterRejected>(AskTimeout);
        Assert.Equal(ErrorCode.Saturated, rejected.Code);
        Assert.Equal("gated", rejected.Key);

        _gated.Open();
        for (var i = 0; i < 6; i++)
            await ExpectMsgAsync<IncrementAccepted>(AskTimeout);
        Assert.Equal(new CounterFlushed("gated", 6), await AskAsync(new FlushCounter("gated")));
    }
}
