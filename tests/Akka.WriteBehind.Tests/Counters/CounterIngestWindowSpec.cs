using Akka.Configuration;
using Akka.WriteBehind.Counters;
using Akka.WriteBehind.Queues;
using Akka.WriteBehind.Tests.Support;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Counters;

/// <summary>
/// The ingest stage's aggregate window on virtual time, with a probe for the shard region and no wake-up wired to the fast
/// path: what the fast path buffers goes to the entity as one aggregate when the window's timer fires, not before.
/// </summary>
public sealed class CounterIngestWindowSpec(ITestOutputHelper output) : VirtualTimeSpecBase("", output)
{
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task Should_hand_the_fast_paths_aggregate_on_when_the_aggregate_window_elapses_and_not_before()
    {
        var settings = CounterSettings.FromConfig(ConfigurationFactory.ParseString($"ingest.aggregate-window = {Window.TotalMilliseconds}ms")
            .WithFallback(WriteBehindConfig.DefaultConfig().GetConfig(CounterSettings.ConfigPath)));
        var region = CreateTestProbe();
        var fastPath = new CounterFastPath(settings.Ingest.FastPathMaxKeys);
        var ingest = Sys.ActorOf(CounterIngestActor.Props(region.Ref, settings, new CounterLedger(settings.TypeName),
            new QueueLedger(settings.TypeName, settings.Ingest.MaxActiveKeys), fastPath));
        ingest.Tell(ListIngestKeys.Instance, TestActor);
        await ExpectMsgAsync<IngestKeys>(Timeout); // PreStart ran: the window's timer counts from here

        Assert.Equal(FastIncrementStatus.Buffered, fastPath.Increment("windowed", 2));
        Assert.Equal(FastIncrementStatus.Buffered, fastPath.Increment("windowed", 3));
        Advance(Window - Step);
        await region.ExpectNoMsgAsync(Quiet);

        Advance(Step);
        var envelope = await region.ExpectMsgAsync<CounterEnvelope>(Timeout);
        Assert.Equal(new Increment("windowed", 5), envelope.Command);
        await region.ExpectNoMsgAsync(Quiet); // one aggregate for both increments
    }
}
