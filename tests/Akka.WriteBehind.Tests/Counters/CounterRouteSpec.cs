using Akka.Actor;
using Akka.WriteBehind.Counters;
using Akka.WriteBehind.Tests.Support;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Counters;

/// <summary>
/// Journal durability's route through the shard log: once a key's entity offers it, the node's acknowledged increments of
/// the key go to the key's shard log in one message per log and drain, and the entity hears their deltas afterwards. Reads
/// still see every increment buffered before them, every increment counts once, and the 64-bit bound stays exact.
/// </summary>
public sealed class CounterRouteSpec(ITestOutputHelper output)
    : CounterSpecBase(output, Journal.Durable + "\nakka.write-behind.counters.flush-interval = 1h")
{
    [Fact]
    public async Task Should_acknowledge_a_key_s_increments_through_its_shard_log_once_its_entity_offered_a_route()
    {
        var sent = await IncrementUntilRoutedAsync("routed");

        for (var i = 0; i < 20; i++)
            Assert.IsType<IncrementAccepted>(await Counters.IncrementAsync("routed", 1));
        sent += 20;
        Assert.InRange(Counters.Ledger!.RoutedIncrements, 20, sent);

        Assert.Equal(new CounterValue("routed", 0, sent, sent), await AskAsync(new GetCounter("routed")));
        Assert.Equal(new CounterFlushed("routed", sent), await AskAsync(new FlushCounter("routed")));
        Assert.Equal(sent, await StoredValueAsync("routed"));
    }

    [Fact]
    public async Task Should_let_a_read_see_exactly_the_increments_buffered_before_it_while_routed_ones_are_on_their_way()
    {
        await OpenRouteAsync("ryw");
        var before = ((CounterValue)await AskAsync(new GetCounter("ryw"))).Total;
        var pending = new List<Task<ICounterReply>>();
        for (var i = 1; i <= 300; i++)
        {
            pending.Add(Counters.IncrementAsync("ryw", 1)); // not awaited: the read follows at once
            var value = Assert.IsType<CounterValue>(await AskAsync(new GetCounter("ryw")));
            Assert.Equal(before + i, value.Total);
        }

        Assert.All(await Task.WhenAll(pending), r => Assert.IsType<IncrementAccepted>(r));
    }

    [Fact]
    public async Task Should_count_increments_of_other_senders_and_routed_ones_each_once()
    {
        await OpenRouteAsync("mixed");
        var routedBefore = Counters.Ledger!.RoutedIncrements;
        var fast = Enumerable.Range(0, 8).Select(async _ =>
        {
            for (var i = 0; i < 100; i++)
                Assert.IsType<IncrementAccepted>(await Counters.IncrementAsync("mixed", 1));
        });
        // increments asked of the region are another sender's: the entity closes the route before it checks each
        var asked = Enumerable.Range(0, 4).Select(async _ =>
        {
            for (var i = 0; i < 25; i++)
                Assert.IsType<IncrementAccepted>(await AskAsync(new Increment("mixed", 10)));
        });
        await Task.WhenAll(fast.Concat(asked)).WaitAsync(AwaitTimeout);

        var total = ((CounterValue)await AskAsync(new GetCounter("mixed"))).Total;
        Output?.WriteLine($"routed meanwhile: {Counters.Ledger!.RoutedIncrements - routedBefore}");
        var expected = OpenRouteIncrements + 800 + 1_000;
        Assert.Equal(expected, total);
        Assert.Equal(new CounterFlushed("mixed", expected), await AskAsync(new FlushCounter("mixed")));
    }

    [Fact]
    public async Task Should_keep_the_64_bit_bound_exact_for_a_routed_key()
    {
        await OpenRouteAsync("edge");

        // too large to route: the log answers so, and the entity checks it exactly
        Assert.IsType<IncrementAccepted>(await Counters.IncrementAsync("edge", long.MaxValue - 100));
        var refused = Assert.IsType<CounterRejected>(await AskAsync(new Increment("edge", 100)));
        Assert.Equal(ErrorCode.Overflow, refused.Code);
        Assert.IsType<IncrementAccepted>(await Counters.IncrementAsync("edge", 100 - OpenRouteIncrements));
        Assert.Equal(ErrorCode.Overflow, Assert.IsType<CounterRejected>(await Counters.IncrementAsync("edge", 1)).Code);
        Assert.Equal(long.MaxValue, ((CounterValue)await AskAsync(new GetCounter("edge"))).Total);
        Assert.IsType<IncrementAccepted>(await Counters.IncrementAsync("edge", long.MinValue));
        Assert.Equal(new CounterFlushed("edge", -1), await AskAsync(new FlushCounter("edge")));
    }

    private const int OpenRouteIncrements = 30;

    /// <summary>Acknowledged increments of 1 until the key's increments go through its route (<see cref="OpenRouteIncrements"/> in all).</summary>
    private async Task OpenRouteAsync(string key)
    {
        var routedBefore = Counters.Ledger!.RoutedIncrements;
        for (var i = 0; i < OpenRouteIncrements; i++)
            Assert.IsType<IncrementAccepted>(await Counters.IncrementAsync(key, 1));
        Assert.True(Counters.Ledger.RoutedIncrements > routedBefore, "the route did not open within 30 acknowledged increments");
    }
}

/// <summary>
/// A routed counter takes its log's deltas from its inbox only at its next flush (or its next message): until then the
/// node's gauges count them through the inbox, and the increments metric has counted them once, as acknowledged.
/// </summary>
public sealed class CounterRouteMetricsSpec : CounterSpecBase
{
    private const string CounterSet = "route-metrics-spec-counters";
    private readonly CounterGauge _incrementsMetric = new("akka.write_behind.counters.increments", CounterSet, sum: true);

    public CounterRouteMetricsSpec(ITestOutputHelper output) : base(output, Journal.Durable + $"""

        akka.write-behind.counters.type-name = {CounterSet}
        akka.write-behind.counters.flush-interval = 1h
        """)
    {
    }

    [Fact]
    public async Task Should_count_routed_increments_in_the_gauges_before_their_entity_takes_them_and_in_the_metric_once()
    {
        var sent = await IncrementUntilRoutedAsync("gauged");
        Assert.Equal(new CounterFlushed("gauged", sent), await AskAsync(new FlushCounter("gauged")));
        var ledger = Counters.Ledger!;
        Assert.Equal((0L, 0L), (ledger.PendingKeys, ledger.PendingIncrements));

        // the ingest stage counts an acknowledged batch just after it answers its callers
        await AwaitAssertAsync(() => Assert.Equal(sent, _incrementsMetric.Read()), AwaitTimeout);
        var routedBefore = ledger.RoutedIncrements;
        for (var i = 0; i < 20; i++)
            Assert.IsType<IncrementAccepted>(await Counters.IncrementAsync("gauged", 1));

        await AwaitAssertAsync(() =>
        {
            Assert.Equal(20, ledger.RoutedIncrements - routedBefore); // each through the route: the entity took none yet
            Assert.Equal((1L, 20L), (ledger.PendingKeys, ledger.PendingIncrements));
            Assert.True(ledger.OldestUnflushedAge > TimeSpan.Zero);
            Assert.Equal(sent + 20, _incrementsMetric.Read());
        }, AwaitTimeout);

        // the flush takes them: stored, counted once
        Assert.Equal(new CounterFlushed("gauged", sent + 20), await AskAsync(new FlushCounter("gauged")));
        Assert.Equal((0L, 0L), (ledger.PendingKeys, ledger.PendingIncrements));
        Assert.Equal(sent + 20, _incrementsMetric.Read());
    }

    [Fact]
    public async Task Should_count_the_inbox_in_the_gauges_when_the_key_held_unstored_increments_before_its_first_route()
    {
        var ledger = Counters.Ledger!;
        var sent = await IncrementUntilRoutedAsync("first-route"); // none stored: the first ones were the entity's own
        for (var i = 0; i < 20; i++)
            Assert.IsType<IncrementAccepted>(await Counters.IncrementAsync("first-route", 1));

        await AwaitAssertAsync(() => Assert.Equal((1L, sent + 20), (ledger.PendingKeys, ledger.PendingIncrements)), AwaitTimeout);
        Assert.Equal(new CounterFlushed("first-route", sent + 20), await AskAsync(new FlushCounter("first-route")));
        Assert.Equal((0L, 0L), (ledger.PendingKeys, ledger.PendingIncrements));
    }

    public override async Task DisposeAsync()
    {
        _incrementsMetric.Dispose();
        await base.DisposeAsync();
    }
}

/// <summary>
/// Routed counters that are evicted and started again all the time: a stopping entity closes its route and stops only once
/// the log has handed it every delta routed through it, so nothing acknowledged is lost or counted twice.
/// </summary>
public sealed class CounterRouteEvictionSpec(ITestOutputHelper output) : CounterSpecBase(output,
    Journal.Durable + """

        akka.write-behind.counters.flush-interval = 1h
        akka.write-behind.counters.max-live-entities = 3
        """)
{
    [Fact]
    public async Task Should_count_every_acknowledged_increment_once_while_routed_entities_are_evicted_under_load()
    {
        const int keys = 6, callers = 24, perCaller = 150;
        var accepted = new long[keys];
        await Task.WhenAll(Enumerable.Range(0, callers).Select(async c =>
        {
            for (var i = 0; i < perCaller; i++)
            {
                var k = (c + i) % keys;
                if (await Counters.IncrementAsync($"evicted-{k}", 1) is IncrementAccepted)
                    Interlocked.Increment(ref accepted[k]);
            }
        })).WaitAsync(TimeSpan.FromMinutes(2));

        Output?.WriteLine($"accepted {accepted.Sum()}, routed {Counters.Ledger!.RoutedIncrements}");
        Assert.Equal(callers * perCaller, accepted.Sum());
        Assert.True(Counters.Ledger!.RoutedIncrements > 0);
        for (var k = 0; k < keys; k++)
            Assert.Equal(new CounterFlushed($"evicted-{k}", accepted[k]), await AskAsync(new FlushCounter($"evicted-{k}")));
    }
}

/// <summary>
/// A routed counter told to stop (a hand-off, passivation or eviction) while a delta routed through it is in a journal
/// write (held here): it stops only once the log has handed it that delta, and its last write stores it. Stopping at once
/// would leave the delta to a next incarnation, woken just to store it.
/// </summary>
public sealed class CounterRouteStopSpec(ITestOutputHelper output) : CounterSpecBase(output,
    Journal.Durable + "\n" + HeldJournal.Hocon + "\nakka.write-behind.counters.flush-interval = 1h")
{
    [Fact]
    public async Task Should_stop_only_once_every_delta_routed_through_it_is_stored()
    {
        var sent = await IncrementUntilRoutedAsync("stopping");
        var entity = await Sys.ActorSelection($"/system/sharding/{Counters.Settings.TypeName}/*/stopping").ResolveOne(AwaitTimeout);
        var journal = HeldJournal.Of(Sys);

        await journal.Ask<Done>(HeldJournal.Hold.Instance, AwaitTimeout);
        var routedBefore = Counters.Ledger!.RoutedIncrements;
        var held = Counters.IncrementAsync("stopping", 1);
        await AwaitConditionAsync(async () => await journal.Ask<int>(HeldJournal.CountHeld.Instance, AwaitTimeout) > 0, AwaitTimeout);

        Watch(entity);
        entity.Tell(StopCounter.Instance);
        await ExpectNoMsgAsync(TimeSpan.FromSeconds(1)); // not stopped: the routed delta is still in the write
        Assert.False(held.IsCompleted);

        await journal.Ask<Done>(HeldJournal.Release.Instance, AwaitTimeout);
        Assert.IsType<IncrementAccepted>(await held);
        Assert.True(Counters.Ledger!.RoutedIncrements > routedBefore); // it took the route
        await ExpectTerminatedAsync(entity, AwaitTimeout);
        Assert.Equal(sent + 1, await StoredValueAsync("stopping")); // its last write
    }
}

/// <summary>
/// A counter whose increments all take its shard log's route gets nothing through its shard, which would see it idle and
/// passivate it every <c>passivate-idle-after</c> while it is busy (a flush, a closed route and a restart each time). The log
/// keeps such counters alive through the shard; with the flush interval at an hour, only a passivation writes the row.
/// </summary>
public sealed class CounterRouteIdleSpec(ITestOutputHelper output) : CounterSpecBase(output,
    Journal.Durable + """

        akka.write-behind.counters.flush-interval = 1h
        akka.write-behind.counters.passivate-idle-after = 3s
        """)
{
    [Fact]
    public async Task Should_not_passivate_a_counter_as_idle_while_its_increments_take_the_log_s_route()
    {
        var sent = await IncrementUntilRoutedAsync("busy");

        // three idle periods of routed increments only
        var routedBefore = Counters.Ledger!.RoutedIncrements;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(9))
        {
            Assert.IsType<IncrementAccepted>(await Counters.IncrementAsync("busy", 1));
            sent++;
        }

        Output?.WriteLine($"sent {sent}, routed meanwhile {Counters.Ledger!.RoutedIncrements - routedBefore}");
        Assert.True(Counters.Ledger!.RoutedIncrements - routedBefore > 100);
        Assert.Equal(0, await StoredValueAsync("busy"));
        Assert.Equal(new CounterFlushed("busy", sent), await AskAsync(new FlushCounter("busy")));
    }
}

/// <summary>
/// A routed counter that stops without closing its route (a crash): the log persists what it took for the key and hands it
/// to the key's next incarnation, as it does with replayed events. Its persists are a second apart here, so the routed
/// delta is still in the log when the entity stops.
/// </summary>
public sealed class CounterRouteCrashSpec(ITestOutputHelper output) : CounterSpecBase(output,
    Journal.Durable + """

        akka.write-behind.counters.flush-interval = 1h
        akka.write-behind.counters.journal.group-window = 1s
        """)
{
    [Fact]
    public async Task Should_hand_a_routed_delta_to_the_key_s_next_incarnation_when_its_entity_stopped_without_closing_the_route()
    {
        var sent = await IncrementUntilRoutedAsync("crash");

        // the row holds those: what is left is the routed delta on its way (a killed entity's unstored deltas are CounterKilledSpec's)
        Assert.Equal(new CounterFlushed("crash", sent), await AskAsync(new FlushCounter("crash")));

        var routed = Counters.IncrementAsync("crash", 5);
        await Task.Delay(300); // taken by the log, which persists it within the second
        Sys.ActorSelection($"/system/sharding/{Counters.Settings.TypeName}/*/crash").Tell(PoisonPill.Instance);

        Assert.IsType<IncrementAccepted>(await routed.WaitAsync(AwaitTimeout));
        Assert.Equal(new CounterFlushed("crash", sent + 5), await AskAsync(new FlushCounter("crash")));
    }
}

/// <summary>
/// A counter killed (stopped without its flush) while its shard log has handed it acknowledged deltas that its row does not
/// hold: its own and routed ones. The log wakes the key, whose next incarnation takes them from the log's events in the
/// journal and stores them, instead of them waiting for the log's next replay (and a later write of the key recording a
/// newer sequence number past them, after which no replay would apply them). Run against SQLite
/// (<see cref="CounterKilledSpec"/>) and PostgreSQL (<see cref="PostgresCounterKilledSpec"/>).
/// </summary>
public abstract class CounterKilledSpecBase(ITestOutputHelper output, TestDatabase database) : CounterSpecBase(output,
    Journal.Durable + """

        akka.write-behind.counters.flush-interval = 1h
        """, database)
{
    [Fact]
    public async Task Should_give_the_key_s_next_incarnation_every_acknowledged_delta_its_row_does_not_hold()
    {
        var sent = await IncrementUntilRoutedAsync("killed");
        for (var i = 0; i < 3; i++)
            Assert.IsType<IncrementAccepted>(await AskAsync(new Increment("killed", 10))); // the entity's own path
        sent += 30;
        sent += await IncrementUntilRoutedAsync("killed", Counters.Ledger!.RoutedIncrements); // the route reopens
        Assert.Equal(0, await StoredValueAsync("killed"));

        var entity = await Sys.ActorSelection($"/system/sharding/{Counters.Settings.TypeName}/*/killed").ResolveOne(AwaitTimeout);
        Watch(entity);
        entity.Tell(PoisonPill.Instance);
        await ExpectTerminatedAsync(entity, AwaitTimeout);

        // the log wakes the key: its next counter stores them without any caller touching it
        await AwaitAssertAsync(async () => Assert.Equal(sent, await StoredValueAsync("killed")), AwaitTimeout, TimeSpan.FromMilliseconds(200));
        Assert.Equal(sent, ((CounterValue)await AskAsync(new GetCounter("killed"))).Total);
        Assert.IsType<IncrementAccepted>(await Counters.IncrementAsync("killed", 1));
        Assert.Equal(new CounterFlushed("killed", sent + 1), await AskAsync(new FlushCounter("killed")));
        Assert.Equal(sent + 1, await StoredValueAsync("killed"));
    }

    [Fact]
    public async Task Should_stop_a_failed_counter_so_that_the_key_s_next_one_takes_its_unstored_deltas()
    {
        var sent = await IncrementUntilRoutedAsync("failed");
        Assert.Equal(0, await StoredValueAsync("failed"));

        // failure injection: a delta that overflows the pending sum throws inside the entity (no journal event holds it)
        var entity = await Sys.ActorSelection($"/system/sharding/{Counters.Settings.TypeName}/*/failed").ResolveOne(AwaitTimeout);
        Watch(entity);
        entity.Tell(new RoutedDeltaJournaled(long.MaxValue, long.MaxValue, 1));
        await ExpectTerminatedAsync(entity, AwaitTimeout);

        Assert.Equal(sent, ((CounterValue)await AskAfterStopAsync(new GetCounter("failed"))).Total);
        Assert.Equal(new CounterFlushed("failed", sent), await AskAsync(new FlushCounter("failed")));
    }

    [Fact]
    public async Task Should_take_a_stopped_counter_s_request_ids_with_its_delta_so_that_a_retry_is_not_counted_again()
    {
        Assert.IsType<IncrementAccepted>(await AskAsync(new Increment("handed", 1))); // its first event has a sequence number >= 1
        var entity = await Sys.ActorSelection($"/system/sharding/{Counters.Settings.TypeName}/*/handed").ResolveOne(AwaitTimeout);

        // as the log hands on the journaled delta of the key's counter before, which stopped before its caller was answered
        // (ShardLogSpec); the sequence number is one the counter has seen, so only the delta and its id are new
        entity.Tell(new RoutedDeltaJournaled(1, 2, 1, [new RequestDelta("order-17", 2)]));
        // the caller retries
        Assert.Equal(new IncrementAccepted("handed", 2), await AskAsync(new Increment("handed", 2) { RequestId = "order-17" }));

        Assert.Equal(3, ((CounterValue)await AskAsync(new GetCounter("handed"))).Total);
        Assert.Equal(new CounterFlushed("handed", 3), await AskAsync(new FlushCounter("handed")));
        Assert.Equal(3, await StoredValueAsync("handed"));
    }

    [Fact]
    public async Task Should_leave_a_stopped_counter_s_delta_out_of_reads_when_a_retry_of_its_id_was_counted_first()
    {
        Assert.IsType<IncrementAccepted>(await AskAsync(new Increment("retried", 1)));
        // the caller retries before the stopped counter's journaled delta reaches the key's counter now
        Assert.Equal(new IncrementAccepted("retried", 2), await AskAsync(new Increment("retried", 2) { RequestId = "order-18" }));
        var entity = await Sys.ActorSelection($"/system/sharding/{Counters.Settings.TypeName}/*/retried").ResolveOne(AwaitTimeout);
        entity.Tell(new RoutedDeltaJournaled(1, 2, 1, [new RequestDelta("order-18", 2)]));

        // the store would leave the second order-18 out of the row: the read leaves it out already
        Assert.Equal(3, ((CounterValue)await AskAsync(new GetCounter("retried"))).Total);
        Assert.Equal(new CounterFlushed("retried", 3), await AskAsync(new FlushCounter("retried")));
        Assert.Equal(3, await StoredValueAsync("retried"));
    }
}

public sealed class CounterKilledSpec(ITestOutputHelper output) : CounterKilledSpecBase(output, new SqliteTestDatabase());

[Collection(PostgresFixture.Collection)]
public sealed class PostgresCounterKilledSpec(ITestOutputHelper output, PostgresFixture postgres)
    : CounterKilledSpecBase(output, new PostgresTestDatabase(postgres));

/// <summary>
/// A counter killed while its write is in flight (held in the store here): the key's next counter must not read its row
/// before that write is answered, or the row it starts from misses the write while the log still hands it the write's
/// deltas, and they are stored twice.
/// </summary>
public sealed class CounterKilledInFlightSpec : CounterSpecBase
{
    private readonly FirstWriteHeldStore _held;

    public CounterKilledInFlightSpec(ITestOutputHelper output)
        : base(output, Journal.Durable + "\nakka.write-behind.counters.flush-interval = 500ms") =>
        Store = _held = new FirstWriteHeldStore(Target, "in-flight");

    [Fact]
    public async Task Should_count_once_what_a_killed_counter_s_write_in_flight_stores()
    {
        var sent = await IncrementUntilRoutedAsync("in-flight");
        await AwaitConditionAsync(() => Task.FromResult(_held.Holding), AwaitTimeout); // the flush timer's write
        for (var i = 0; i < 5; i++)
            Assert.IsType<IncrementAccepted>(await Counters.IncrementAsync("in-flight", 1)); // pending behind the write
        sent += 5;

        Assert.True(_held.Holding);

        var entity = await Sys.ActorSelection($"/system/sharding/{Counters.Settings.TypeName}/*/in-flight").ResolveOne(AwaitTimeout);
        Watch(entity);
        entity.Tell(PoisonPill.Instance);
        await ExpectTerminatedAsync(entity, AwaitTimeout);
        // a read of the row lets the write commit at once; the store writer reads it only after the write, so it goes in time
        _held.ReleaseAfter(TimeSpan.FromSeconds(3));

        Assert.Equal(new CounterFlushed("in-flight", sent), await AskAfterStopAsync(new FlushCounter("in-flight")));
        Assert.Equal(sent, await StoredValueAsync("in-flight"));
    }
}

/// <summary>
/// Two nodes on one SQLite file, both incrementing every key at once: each node's own keys are routed through their
/// shard logs while the other node's increments reach the same entities as another sender's, which close the route
/// first. Every acknowledged increment is counted once.
/// </summary>
public sealed class CounterRouteTwoNodeSpec(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly SqliteTestDatabase _database = new();
    private readonly List<ActorSystem> _systems = new();

    [Fact]
    public async Task Should_count_routed_increments_and_those_of_the_other_node_each_once()
    {
        var nodes = await TwoNodeCluster.StartAsync("route-two-nodes",
            TestConfig.Cluster(Journal.Durable + "\nakka.write-behind.counters.flush-interval = 1h", _database), Timeout);
        _systems.AddRange(nodes);
        var counters = await Task.WhenAll(nodes.Select(n => WriteBehindCounters.StartAsync(n, _database.CreateStore()))).WaitAsync(Timeout);
        await CounterRegions.AwaitRegionsAsync(counters[0], 2, Timeout);

        const int keys = 20, callersPerNode = 8, perCaller = 200;
        var accepted = new long[keys];
        await Task.WhenAll(counters.SelectMany(set => Enumerable.Range(0, callersPerNode).Select(async c =>
        {
            for (var i = 0; i < perCaller; i++)
            {
                var k = (c * 7 + i) % keys;
                if (await set.IncrementAsync($"two-{k}", 1) is IncrementAccepted)
                    Interlocked.Increment(ref accepted[k]);
            }
        }))).WaitAsync(TimeSpan.FromMinutes(2));

        var routed = counters.Select(c => c.Ledger!.RoutedIncrements).ToArray();
        output.WriteLine($"accepted {accepted.Sum()}, routed per node {string.Join(", ", routed)}");
        Assert.Equal(2 * callersPerNode * perCaller, accepted.Sum());
        Assert.All(routed, r => Assert.True(r > 0, "each node routes the increments of the keys it hosts"));
        for (var k = 0; k < keys; k++)
            Assert.Equal(new CounterFlushed($"two-{k}", accepted[k]),
                await counters[k % 2].Region.Ask<ICounterReply>(new FlushCounter($"two-{k}"), CounterSpecBase.AskTimeout));
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => ClusterNodes.StopAsync(_systems, _database, Timeout);
}
