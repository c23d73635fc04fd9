using System.Collections.Immutable;
using Akka.Actor;
using Akka.Serialization;
using Akka.WriteBehind.Counters;
using Akka.WriteBehind.Tests.Support;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Counters;

/// <summary>
/// Increments with a request id are applied once however often they are retried; run in memory durability with every
/// message serialized as between nodes (<see cref="CounterIdempotencySpec"/>), and in journal durability
/// (<see cref="JournalCounterIdempotencySpec"/>; Akka.Persistence.Sql's own internal messages cannot be serialized).
/// </summary>
public abstract class CounterIdempotencySpecBase(ITestOutputHelper output, string config)
    : CounterSpecBase(output, config + """

        akka.write-behind.counters.flush-interval = 1h
        """)
{
    [Fact]
    public async Task Should_apply_a_repeated_request_once_and_answer_it_as_the_first()
    {
        Assert.Equal(new IncrementAccepted("k", 5), await Counters.IncrementAsync("k", 5, "r1"));
        Assert.Equal(new IncrementAccepted("k", 5), await Counters.IncrementAsync("k", 5, "r1"));
        Assert.Equal(new IncrementAccepted("k", 5), await AskAsync(new Increment("k", 5) { RequestId = "r1" }));
        // another id, and no id, are other increments
        Assert.Equal(new IncrementAccepted("k", 2), await Counters.IncrementAsync("k", 2, "r2"));
        Assert.Equal(new IncrementAccepted("k", 1), await Counters.IncrementAsync("k", 1));

        Assert.Equal(8, Assert.IsType<CounterValue>(await AskAsync(new GetCounter("k"))).Total);
        Assert.Equal(new CounterFlushed("k", 8), await AskAsync(new FlushCounter("k")));
        // after the flush the entity still knows r1 and r2
        await Counters.IncrementAsync("k", 5, "r1");
        await Counters.IncrementAsync("k", 2, "r2");
        Assert.Equal(new CounterFlushed("k", 8), await AskAsync(new FlushCounter("k")));
        Assert.Equal(8, await StoredValueAsync("k"));
    }

    [Fact]
    public async Task Should_apply_repeats_aggregated_together_once()
    {
        // sent at once: the fast path aggregates them into one message for the entity
        var replies = await Counters.IncrementAsync(Enumerable.Range(0, 100).Select(i => new Increment("agg", 1) { RequestId = $"a{i % 10}" }));
        Assert.All(replies, r => Assert.Equal(new IncrementAccepted("agg", 1), r));
        Assert.Equal(new CounterFlushed("agg", 10), await AskAsync(new FlushCounter("agg")));
    }

    [Fact]
    public async Task Should_recognise_a_repeat_the_entity_forgot_when_it_is_written()
    {
        await Counters.IncrementAsync("forgot", 5, "f1");
        Assert.Equal(new CounterFlushed("forgot", 5), await AskAsync(new FlushCounter("forgot")));

        // a counter that no longer remembers f1 (it kept at most one id, and f2 came after) still has it stored with the row
        await Counters.IncrementAsync("forgot", 3, "f2");
        Assert.Equal(new CounterFlushed("forgot", 8), await AskAsync(new FlushCounter("forgot")));
        await Counters.IncrementAsync("forgot", 5, "f1");
        Assert.Equal(new CounterFlushed("forgot", 8), await AskAsync(new FlushCounter("forgot")));
        Assert.Equal(8, Assert.IsType<CounterValue>(await AskAsync(new GetCounter("forgot"))).Total);
    }

    [Fact]
    public async Task Should_refuse_an_invalid_request_id()
    {
        var rejected = Assert.IsType<CounterRejected>(await Counters.IncrementAsync("k", 5, "has space"));
        Assert.Equal(ErrorCode.InvalidArgument, rejected.Code);
        rejected = Assert.IsType<CounterRejected>(await AskAsync(new Increment("k", 5) { RequestId = new string('x', 129) }));
        Assert.Equal(ErrorCode.InvalidArgument, rejected.Code);
        Assert.Equal(0, Assert.IsType<CounterValue>(await AskAsync(new GetCounter("k"))).Total);
    }
}

public sealed class CounterIdempotencySpec(ITestOutputHelper output)
    : CounterIdempotencySpecBase(output, "akka.actor.serialize-messages = on\nakka.write-behind.counters.idempotency.max-ids-per-key = 1");

public sealed class JournalCounterIdempotencySpec(ITestOutputHelper output)
    : CounterIdempotencySpecBase(output, Journal.Durable + "\nakka.write-behind.counters.idempotency.max-ids-per-key = 1");

/// <summary>Request ids survive a crash with the journal: they are in the events until the rows record them.</summary>
public sealed class CounterIdempotencyCrashSpec(ITestOutputHelper output) : Akka.TestKit.Xunit2.TestKit(TestConfig.Cluster(), output: output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    private const string Crashable = Journal.Durable + """

        akka.coordinated-shutdown.run-by-actor-system-terminate = off
        akka.write-behind.counters.flush-interval = 1h
        """;

    [Fact]
    public async Task Should_apply_once_a_request_repeated_after_a_crash_whether_or_not_its_row_was_written()
    {
        using var db = new SqliteTestDatabase();
        var (system1, node1) = await StartNodeAsync(db);
        for (var i = 0; i < 50; i++)
            Assert.IsType<IncrementAccepted>(await node1.IncrementAsync($"c-{i % 5}", 1, $"req-{i}"));
        // some keys are written before the crash, the others only journaled
        for (var k = 0; k < 5; k += 2)
            Assert.Equal(new CounterFlushed($"c-{k}", 10), await node1.Region.Ask<ICounterReply>(new FlushCounter($"c-{k}"), Timeout));
        await system1.Terminate();

        // node 2: every request is retried, at once (some before the replay wrote the journaled ones)
        var (system2, node2) = await StartNodeAsync(db);
        try
        {
            var retries = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => node2.IncrementAsync($"c-{i % 5}", 1, $"req-{i}")));
            Assert.All(retries, r => Assert.IsType<IncrementAccepted>(r));
            for (var k = 0; k < 5; k++)
                Assert.Equal(new CounterFlushed($"c-{k}", 10), await node2.Region.Ask<ICounterReply>(new FlushCounter($"c-{k}"), Timeout));
            Assert.Equal(Enumerable.Range(0, 5).ToDictionary(k => $"c-{k}", _ => 10L), await db.ReadCountersAsync());
        }
        finally
        {
            await CoordinatedShutdown.Get(system2).Run(CoordinatedShutdown.ClrExitReason.Instance);
        }
    }

    [Fact]
    public async Task Should_leave_a_replayed_repeat_of_an_id_out_of_reads()
    {
        using var db = new SqliteTestDatabase();
        var (system1, node1) = await StartNodeAsync(db);
        // node 1 journals two events that both hold order-9 for "twice": as when a retry reached a counter that did not
        // know the id yet, and the node crashed before either was stored. A probe plays the key's counter
        var shardId = new CounterMessageExtractor(node1.Settings.NumberOfShards).ShardOfKey("twice");
        var region = Akka.Cluster.Sharding.ClusterSharding.Get(system1).ShardRegion(node1.Settings.TypeName);
        var counter = CreateTestProbe(system1);
        counter.Send(region, new AttachToJournal(shardId, "twice", 0));
        await counter.ExpectMsgAsync<JournalAttached>(Timeout);
        var log = counter.LastSender;
        for (var i = 0; i < 2; i++)
        {
            counter.Send(log, new JournalDelta("twice", 2, [new RequestDelta("order-9", 2)]));
            await counter.ExpectMsgAsync<DeltaJournaled>(Timeout);
        }

        await system1.Terminate();

        // node 2 replays both: the read counts order-9 once, as the row will
        var (system2, node2) = await StartNodeAsync(db);
        try
        {
            Assert.Equal(2, Assert.IsType<CounterValue>(await node2.Region.Ask<ICounterReply>(new GetCounter("twice"), Timeout)).Total);
            Assert.Equal(new CounterFlushed("twice", 2), await node2.Region.Ask<ICounterReply>(new FlushCounter("twice"), Timeout));
            Assert.Equal(2, (await db.ReadCountersAsync())["twice"]);
        }
        finally
        {
            await CoordinatedShutdown.Get(system2).Run(CoordinatedShutdown.ClrExitReason.Instance);
        }
    }

    private static async Task<(ActorSystem System, CounterSet Counters)> StartNodeAsync(TestDatabase db)
    {
        var system = ActorSystem.Create("idempotency-crash-spec", TestConfig.Cluster(Crashable, db));
        await Cluster.Cluster.Get(system).JoinAsync(Cluster.Cluster.Get(system).SelfAddress);
        return (system, await WriteBehindCounters.StartAsync(system, db.CreateStore()));
    }
}

/// <summary>The shard log's events keep the request ids of their deltas.</summary>
public sealed class CounterEventSerializerSpec : Akka.TestKit.Xunit2.TestKit
{
    [Fact]
    public void Should_round_trip_events_with_and_without_request_ids()
    {
        var serializer = new CounterEventSerializer((ExtendedActorSystem)Sys);
        var plain = new ShardIncrements([new KeyDelta("a", 5), new KeyDelta("ключ", -3)]);
        var withIds = new ShardIncrements([
            new KeyDelta("a", 5, [new RequestDelta("r1", 2), new RequestDelta("r2", 3)]),
            new KeyDelta("b", long.MinValue),
            new KeyDelta("c", 0, [new RequestDelta("z", 0)]),
        ]);

        Assert.Equal("sd", serializer.Manifest(plain));
        Assert.Equal("sr", serializer.Manifest(withIds));
        foreach (var e in new[] { plain, withIds })
        {
            var back = (ShardIncrements)serializer.FromBinary(serializer.ToBinary(e), serializer.Manifest(e));
            Assert.Equal(Describe(e), Describe(back));
        }
    }

    [Fact]
    public void Should_write_an_event_into_one_array_of_its_exact_size()
    {
        var serializer = new CounterEventSerializer((ExtendedActorSystem)Sys);
        var e = new ShardIncrements([.. Enumerable.Range(0, 50).Select(i => new KeyDelta($"bench:{i}", i - 25))]);
        var expected = serializer.ToBinary(e); // warm: jitted, the encoder's statics in place

        var before = GC.GetAllocatedBytesForCurrentThread();
        var bytes = serializer.ToBinary(e);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(expected, bytes);
        // the stored format: count, then per delta the key's length and UTF-8 bytes and the zigzag delta, as varints
        Assert.Equal([1, 1, (byte)'a', 10], serializer.ToBinary(new ShardIncrements([new KeyDelta("a", 5)])));
        // one byte[]: its length plus the array header (24 B on 64-bit) rounded up to 8; no buffer of the largest size
        Assert.InRange(allocated, bytes.Length, bytes.Length + 32);
    }

    private static string Describe(ShardIncrements e) => string.Join(";", e.Deltas.Select(d =>
        $"{d.Key}={d.Delta}[{string.Join(",", (d.Requests.IsDefault ? ImmutableArray<RequestDelta>.Empty : d.Requests).Select(r => $"{r.Id}:{r.Delta}"))}]"));
}
