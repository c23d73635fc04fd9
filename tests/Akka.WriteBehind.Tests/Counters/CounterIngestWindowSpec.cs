using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit;
using Akka.WriteBehind.Counters;
using Akka.WriteBehind.Queues;
using Akka.WriteBehind.Tests.Support;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Counters;

/// <summary>
/// The ingest stage's aggregate window on virtual time, with a probe for the shard region and no wake-up wired to the fast
/// path: what the fast path buffers goes to the entity as one aggregate when the window's timer fires, not before; and
/// while the stage drains for shutdown, an aggregate the entity could not take goes again at the next window; a drain woken
/// by an awaited increment waits while a batch the shard log holds is not in the event it writes.
/// </summary>
public sealed class CounterIngestWindowSpec(ITestOutputHelper output) : VirtualTimeSpecBase("", output)
{
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task Should_hand_the_fast_paths_aggregate_on_when_the_aggregate_window_elapses_and_not_before()
    {
        var (ingest, region, fastPath) = await StartAsync();

        Assert.Equal(FastIncrementStatus.Buffered, fastPath.Increment("windowed", 2));
        Assert.Equal(FastIncrementStatus.Buffered, fastPath.Increment("windowed", 3));
        Advance(Window - Step);
        await region.ExpectNoMsgAsync(Quiet);

        Advance(Step);
        var envelope = await region.ExpectMsgAsync<CounterEnvelope>(Timeout);
        Assert.Equal(new Increment("windowed", 5), envelope.Command);
        await region.ExpectNoMsgAsync(Quiet); // one aggregate for both increments
        ingest.Tell(new CounterEnvelopeTaken(envelope.Id));
    }

    [Fact]
    public async Task Should_while_draining_refuse_new_commands_and_resend_a_refused_aggregate_at_the_next_window()
    {
        var (ingest, region, fastPath) = await StartAsync();
        Assert.Equal(FastIncrementStatus.Buffered, fastPath.Increment("draining", 4));

        ingest.Tell(DrainCounterIngest.Instance, TestActor); // the shutdown drain hands the aggregate on at once
        var first = await region.ExpectMsgAsync<CounterEnvelope>(Timeout);
        Assert.Equal(new Increment("draining", 4), first.Command);
        ingest.Tell(new Increment("late", 1), TestActor);
        Assert.Equal(ErrorCode.ShuttingDown, (await ExpectMsgAsync<CounterRejected>(Timeout)).Code);

        // the entity cannot take it yet (refused, then its slot freed, as an entity does): back to the fast path, so the
        // stage is not drained
        ingest.Tell(new CounterRejected("draining", ErrorCode.Saturated, "still loading"), region.Ref);
        ingest.Tell(new CounterEnvelopeTaken(first.Id));
        Advance(Window - Step);
        await region.ExpectNoMsgAsync(Quiet);
        await ExpectNoMsgAsync(TimeSpan.Zero);

        Advance(Step);
        var again = await region.ExpectMsgAsync<CounterEnvelope>(Timeout);
        Assert.Equal(new Increment("draining", 4), again.Command);
        await ExpectNoMsgAsync(Quiet); // not drained while it is unconfirmed

        ingest.Tell(new CounterEnvelopeTaken(again.Id));
        await ExpectMsgAsync<CounterIngestDrained>(Timeout);
    }

    [Fact]
    public async Task Should_defer_a_woken_drain_while_a_routed_batch_waits_for_its_event_and_drain_when_the_log_writes_it()
    {
        var (ingest, _, fastPath) = await StartAsync();
        fastPath.Wake = () => ingest.Tell(DrainAggregatesNow.Instance);
        var log = CreateTestProbe();
        foreach (var key in new[] { "a", "b", "c" })
            ingest.Tell(new RouteOpened(key), log.Ref);

        var a = fastPath.IncrementAsync("a", 1);
        var first = await log.ExpectMsgAsync<RoutedIncrements>(Timeout);
        Assert.Equal(["a"], first.Keys);

        // the batch waits for its event: the wake-up waits too, and the key sums meanwhile
        _ = fastPath.IncrementAsync("b", 2);
        _ = fastPath.IncrementAsync("b", 3);
        await log.ExpectNoMsgAsync(Quiet);
        ingest.Tell(new RoutedPersisting(first.BatchId), log.Ref); // the log writes it now
        var second = await log.ExpectMsgAsync<RoutedIncrements>(Timeout);
        Assert.Equal(["b"], second.Keys);
        Assert.Equal([5L], second.Deltas);

        _ = fastPath.IncrementAsync("c", 4);
        ingest.Tell(new RoutedAnswers(first.BatchId, [RoutedOutcome.Accepted]), log.Ref);
        Assert.Equal(new IncrementAccepted("a", 1), await a.WaitAsync(Timeout));
        await log.ExpectNoMsgAsync(Quiet); // the second batch still waits for its event

        ingest.Tell(new RoutedPersisting(second.BatchId), log.Ref);
        Assert.Equal(["c"], (await log.ExpectMsgAsync<RoutedIncrements>(Timeout)).Keys);
    }

    /// <summary>A stage alone; returns once its PreStart ran (its timers count from then).</summary>
    private async Task<(IActorRef Ingest, TestProbe Region, CounterFastPath FastPath)> StartAsync()
    {
        var settings = CounterSettings.FromConfig(ConfigurationFactory.ParseString($"ingest.aggregate-window = {Window.TotalMilliseconds}ms")
            .WithFallback(WriteBehindConfig.DefaultConfig().GetConfig(CounterSettings.ConfigPath)));
        var region = CreateTestProbe();
        var fastPath = new CounterFastPath(settings.Ingest.FastPathMaxKeys);
        var ingest = Sys.ActorOf(CounterIngestActor.Props(region.Ref, settings, new CounterLedger(settings.TypeName),
            new QueueLedger(settings.TypeName, settings.Ingest.MaxActiveKeys), fastPath));
        ingest.Tell(ListIngestKeys.Instance, TestActor);
        await ExpectMsgAsync<IngestKeys>(Timeout);
        return (ingest, region, fastPath);
    }
}
