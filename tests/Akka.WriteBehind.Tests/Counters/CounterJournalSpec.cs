using Akka.Actor;
using Akka.WriteBehind.Counters;
using Akka.WriteBehind.Tests.Support;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Counters;

internal static class Journal
{
    public const string Durable = """
        akka.write-behind.counters.durability = journal
        akka.write-behind.counters.journal.sweep-interval = 5s
        akka.write-behind.counters.journal.trim-interval = 1s
        """;
}

/// <summary>Journal durability on a real database; run against SQLite (<see cref="CounterJournalSpec"/>) and PostgreSQL (<see cref="PostgresCounterJournalSpec"/>).</summary>
public abstract class CounterJournalSpecBase(ITestOutputHelper output, TestDatabase database)
    : CounterSpecBase(output, Journal.Durable + "\nakka.write-behind.counters.flush-interval = 1h", database)
{
    [Fact]
    public async Task Should_acknowledge_once_journaled_and_write_exactly()
    {
        for (var i = 1; i <= 20; i++)
            Assert.Equal(new IncrementAccepted("j", i), await AskAsync(new Increment("j", i)));

        // acknowledged = in the journal (the log of the key's shard), not yet in the target
        var events = await Database.JournalEventCountsAsync();
        var logEvents = Assert.Single(events).Value;
        Assert.InRange(logEvents, 1, 20);
        Assert.Equal(new CounterValue("j", 0, 210, 210), await AskAsync(new GetCounter("j")));
        Assert.Equal(0, await StoredValueAsync("j"));

        Assert.Equal(new CounterFlushed("j", 210), await AskAsync(new FlushCounter("j")));
        var row = (await Target.ReadAsync(["j"]))["j"];
        Assert.Equal(210, row.Value);
        Assert.Equal(logEvents, row.AppliedSeq); // the row holds the shard-log sequence number of the newest event it includes
    }

    [Fact]
    public async Task Should_answer_increments_of_the_same_delta_with_one_immutable_answer()
    {
        var first = await AskAsync(new Increment("same-answer", 1));
        var second = await AskAsync(new Increment("same-answer", 1));
        Assert.Equal(new IncrementAccepted("same-answer", 1), first);
        Assert.Same(first, second); // not a new message per acknowledged increment
        Assert.Equal(new IncrementAccepted("same-answer", 5), await AskAsync(new Increment("same-answer", 5)));
    }

    [Fact]
    public async Task Should_group_increments_that_arrive_during_a_persist()
    {
        for (var i = 0; i < 2000; i++)
            Region.Tell(new Increment("grouped", 1), TestActor);
        for (var i = 0; i < 2000; i++)
            await ExpectMsgAsync<IncrementAccepted>(AskTimeout);

        var events = (await Database.JournalEventCountsAsync()).Values.Sum();
        Output?.WriteLine($"2000 increments in {events} journal events");
        Assert.True(events < 2000, $"group commit: {events} events for 2000 increments");
        Assert.Equal(2000, Assert.IsType<CounterValue>(await AskAsync(new GetCounter("grouped"))).Total);
    }

    [Fact]
    public async Task Should_read_and_flush_after_earlier_told_increments()
    {
        for (var i = 0; i < 500; i++)
            Region.Tell(new Increment("ryw-j", 2));
        Assert.Equal(1000, Assert.IsType<CounterValue>(await AskAsync(new GetCounter("ryw-j"))).Total);
        Assert.Equal(new CounterFlushed("ryw-j", 1000), await AskAsync(new FlushCounter("ryw-j")));
    }

    [Fact]
    public async Task Should_delete_the_events_every_row_holds()
    {
        for (var i = 0; i < 60; i++)
        {
            await AskAsync(new Increment($"trim-{i % 6}", 1));
            Assert.Equal(new CounterFlushed($"trim-{i % 6}", i / 6 + 1), await AskAsync(new FlushCounter($"trim-{i % 6}")));
        }

        // every key is stored: its shard log deletes all its events with the next trim
        await AwaitAssertAsync(async () => Assert.Equal(0, (await Database.JournalEventCountsAsync()).Values.Sum()), AwaitTimeout);
    }

    [Fact]
    public async Task Should_keep_the_events_of_a_key_not_yet_stored()
    {
        // two keys in one shard: one is stored, the other's delta stays pending (flush-interval 1h)
        var shardOf = new CounterMessageExtractor(Counters.Settings.NumberOfShards);
        var keys = Enumerable.Range(0, 1000).Select(i => $"keep-{i}").GroupBy(shardOf.ShardOfKey).First(g => g.Count() >= 2).Take(2).ToArray();
        Assert.IsType<IncrementAccepted>(await AskAsync(new Increment(keys[0], 1)));
        Assert.IsType<IncrementAccepted>(await AskAsync(new Increment(keys[1], 2)));
        Assert.Equal(new CounterFlushed(keys[1], 2), await AskAsync(new FlushCounter(keys[1])));

        // the first event holds keys[0]'s unstored delta: nothing at or after it may go; three trim intervals pass
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.Equal(2, (await Database.JournalEventCountsAsync()).Values.Sum());

        Assert.Equal(new CounterFlushed(keys[0], 1), await AskAsync(new FlushCounter(keys[0])));
        await AwaitAssertAsync(async () => Assert.Equal(0, (await Database.JournalEventCountsAsync()).Values.Sum()), AwaitTimeout);
    }
}

public sealed class CounterJournalSpec(ITestOutputHelper output) : CounterJournalSpecBase(output, new SqliteTestDatabase());

/// <summary>A shard log persists at most once per <c>journal.group-window</c>; what arrives meanwhile waits for the next event.</summary>
public sealed class CounterJournalGroupWindowSpec(ITestOutputHelper output)
    : CounterSpecBase(output, Journal.Durable + "\nakka.write-behind.counters { flush-interval = 1h, journal.group-window = 3s }")
{
    [Fact]
    public async Task Should_hold_the_next_persist_of_a_shard_log_until_its_window_has_passed()
    {
        Assert.IsType<IncrementAccepted>(await AskAsync(new Increment("window", 1))); // the log's first persist: at once

        // the second persist of the same log may start only 3s after the first
        Region.Tell(new Increment("window", 2), TestActor);
        await ExpectNoMsgAsync(TimeSpan.FromSeconds(1));
        Assert.Equal(new IncrementAccepted("window", 2), await ExpectMsgAsync<IncrementAccepted>(AskTimeout));
        Assert.Equal(2, (await Database.JournalEventCountsAsync()).Values.Sum());
    }
}

[Collection(PostgresFixture.Collection)]
public sealed class PostgresCounterJournalSpec(ITestOutputHelper output, PostgresFixture postgres)
    : CounterJournalSpecBase(output, new PostgresTestDatabase(postgres));

/// <summary>
/// Journal durability across crashes (a node stops without CoordinatedShutdown) on a real database; run against SQLite
/// (<see cref="CounterJournalCrashSpec"/>) and PostgreSQL (<see cref="PostgresCounterJournalCrashSpec"/>).
/// </summary>
public abstract class CounterJournalCrashSpecBase(ITestOutputHelper output) : Akka.TestKit.Xunit2.TestKit(TestConfig.Cluster(), output: output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    // a crash: the system stops without CoordinatedShutdown, so no entity flushes
    private const string Crashable = Journal.Durable + """

        akka.coordinated-shutdown.run-by-actor-system-terminate = off
        """;

    /// <summary>A fresh database for one test.</summary>
    private protected abstract TestDatabase NewDatabase();

    [Fact]
    public async Task Should_write_acknowledged_increments_after_a_crash_without_anyone_touching_the_keys()
    {
        using var db = NewDatabase();
        var expected = new Dictionary<string, long>();

        var node1 = await StartNodeAsync(db, Crashable + "\nakka.write-behind.counters.flush-interval = 1h", db.CreateStore());
        for (var i = 0; i < 500; i++)
        {
            var key = $"crash-{i % 50}";
            Assert.IsType<IncrementAccepted>(await node1.Counters.Region.Ask<ICounterReply>(new Increment(key, i), Timeout));
            expected[key] = expected.GetValueOrDefault(key) + i;
        }

        await node1.System.Terminate();
        Assert.Empty(await db.ReadCountersAsync());

        // node 2: no caller touches the keys; the journal sweep wakes their shard logs, which wake the keys, and each writes
        // its replayed increments at once (the flush interval is an hour: no timer brings them in)
        var node2 = await StartNodeAsync(db, Crashable + "\nakka.write-behind.counters.flush-interval = 1h", db.CreateStore());
        try
        {
            await AwaitAssertAsync(async () => Assert.Equal(expected, await db.ReadCountersAsync()), TimeSpan.FromSeconds(60));
        }
        finally
        {
            await CoordinatedShutdown.Get(node2.System).Run(CoordinatedShutdown.ClrExitReason.Instance);
        }

        // a clean stop leaves no replayable events
        Assert.Empty(await db.JournalEventCountsAsync());
        Assert.Equal(expected, await db.ReadCountersAsync());
    }

    [Fact]
    public async Task Should_not_apply_twice_a_write_that_committed_before_the_crash()
    {
        using var db = NewDatabase();
        var target = db.CreateStore();

        // the target commits, then the entity hears a failure and, before its retry (10s away), the node crashes
        var failing = new FailingStore(target, failures: 1, commitThenFail: true);
        var node1 = await StartNodeAsync(db, Crashable + """

            akka.write-behind.counters.flush-interval = 1h
            akka.write-behind.counters.retry { min-backoff = 10s, max-backoff = 10s }
            """, failing);
        for (var i = 1; i <= 10; i++)
            await node1.Counters.Region.Ask<ICounterReply>(new Increment("twice", i), Timeout);
        var rejected = Assert.IsType<CounterRejected>(await node1.Counters.Region.Ask<ICounterReply>(new FlushCounter("twice"), Timeout));
        Assert.Equal(ErrorCode.StoreFailure, rejected.Code);
        await node1.System.Terminate();
        Assert.Equal(55, (await target.ReadAsync(["twice"]))["twice"].Value);

        var node2 = await StartNodeAsync(db, Crashable, db.CreateStore());
        try
        {
            Assert.Equal(new CounterValue("twice", 55, 0, 55), await node2.Counters.Region.Ask<ICounterReply>(new GetCounter("twice"), Timeout));
            Assert.Equal(new CounterFlushed("twice", 55), await node2.Counters.Region.Ask<ICounterReply>(new FlushCounter("twice"), Timeout));
        }
        finally
        {
            await node2.System.Terminate();
        }
    }

    [Fact]
    public async Task Should_keep_in_the_journal_the_events_a_changed_number_of_shards_places_in_other_shards()
    {
        using var db = NewDatabase();
        var expected = new Dictionary<string, long>();
        const string hourly = "\nakka.write-behind.counters.flush-interval = 1h";

        var node1 = await StartNodeAsync(db, Crashable + hourly, db.CreateStore());
        for (var i = 0; i < 50; i++)
        {
            Assert.IsType<IncrementAccepted>(await node1.Counters.Region.Ask<ICounterReply>(new Increment($"moved-{i}", i + 1), Timeout));
            expected[$"moved-{i}"] = i + 1;
        }

        await node1.System.Terminate();

        // node 2 has 7 shards instead of 100: most replayed keys now belong to other shards than the logs that hold them
        var errors = CreateTestProbe();
        var node2 = ActorSystem.Create("journal-crash-spec", TestConfig.Cluster(Crashable + hourly + "\nakka.write-behind.counters.number-of-shards = 7", db));
        try
        {
            node2.EventStream.Subscribe(errors.Ref, typeof(Akka.Event.Error));
            await Cluster.Cluster.Get(node2).JoinAsync(Cluster.Cluster.Get(node2).SelfAddress);
            await WriteBehindCounters.StartAsync(node2, db.CreateStore());
            var error = await errors.FishForMessageAsync<Akka.Event.Error>(e => e.ToString().Contains("number-of-shards = 7"), TimeSpan.FromSeconds(60));
            Assert.Contains("stay in the journal", error.ToString());
        }
        finally
        {
            await node2.Terminate();
        }

        // with the number they were written with, every acknowledged increment is written exactly once
        var node3 = await StartNodeAsync(db, Crashable + hourly, db.CreateStore());
        try
        {
            await AwaitAssertAsync(async () => Assert.Equal(expected, await db.ReadCountersAsync()), TimeSpan.FromSeconds(60));
        }
        finally
        {
            await node3.System.Terminate();
        }
    }

    private static async Task<(ActorSystem System, CounterSet Counters)> StartNodeAsync(TestDatabase db, string config, ICounterStore store)
    {
        var system = ActorSystem.Create("journal-crash-spec", TestConfig.Cluster(config, db));
        await Cluster.Cluster.Get(system).JoinAsync(Cluster.Cluster.Get(system).SelfAddress);
        var counters = await WriteBehindCounters.StartAsync(system, store);
        return (system, counters);
    }
}

public sealed class CounterJournalCrashSpec(ITestOutputHelper output) : CounterJournalCrashSpecBase(output)
{
    private protected override TestDatabase NewDatabase() => new SqliteTestDatabase();
}

[Collection(PostgresFixture.Collection)]
public sealed class PostgresCounterJournalCrashSpec(ITestOutputHelper output, PostgresFixture postgres) : CounterJournalCrashSpecBase(output)
{
    private protected override TestDatabase NewDatabase() => new PostgresTestDatabase(postgres);
}

public sealed class CounterJournalFailureSpec(ITestOutputHelper output)
    : CounterSpecBase(output, Journal.Durable + "\n" + HeldJournal.Hocon + "\nakka.write-behind.counters.flush-interval = 1h")
{
    [Fact]
    public async Task Should_refuse_with_a_typed_error_when_the_journal_fails_and_recover()
    {
        Assert.IsType<IncrementAccepted>(await AskAsync(new Increment("flaky-j", 1)));

        var journal = HeldJournal.Of(Sys);
        await journal.Ask<Done>(new HeldJournal.Fail(true), AwaitTimeout);
        try
        {
            var rejected = Assert.IsType<CounterRejected>(await AskAsync(new Increment("flaky-j", 100)));
            Assert.Equal(ErrorCode.StoreFailure, rejected.Code);
        }
        finally
        {
            await journal.Ask<Done>(new HeldJournal.Fail(false), AwaitTimeout);
        }

        // the journal restarts with back-off and replays; new increments are accepted again
        await AwaitAssertAsync(async () => Assert.IsType<IncrementAccepted>(await AskAsync(new Increment("flaky-j", 10))), AwaitTimeout);
        var flushed = Assert.IsType<CounterFlushed>(await AskAsync(new FlushCounter("flaky-j")));
        Assert.Equal(Assert.IsType<CounterValue>(await AskAsync(new GetCounter("flaky-j"))).Total, flushed.Stored);
        Assert.Contains(flushed.Stored, new long[] { 11, 21, 31 }); // 1 + one or more accepted 10s; the refused 100 is not there
    }
}

/// <summary>The journal's worst case at full rate; run against SQLite (<see cref="CounterJournalLoadSpec"/>) and PostgreSQL (<see cref="PostgresCounterJournalLoadSpec"/>).</summary>
public abstract class CounterJournalLoadSpecBase(ITestOutputHelper output, TestDatabase database)
    : CounterSpecBase(output, Journal.Durable + "\nakka.write-behind.counters.flush-interval = 500ms", database)
{
    [Fact]
    public async Task Should_take_a_full_rate_load_on_10000_keys_without_losing_an_acknowledged_increment()
    {
        // every key is incremented again long after its previous persist, so group commit cannot help here: this is the
        // journal's worst case (one event per increment), taken at full rate with back-pressure through the ingest stage
        const int keys = 10_000;
        const int increments = 50_000;
        var tally = Sys.ActorOf(Props.Create(() => new Tally()));

        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 0; i < increments; i++)
            Region.Tell(new Increment($"load-{i % keys}", 1), tally);
        var sent = clock.Elapsed;

        var counts = await AwaitTallyAsync(tally, increments);
        var acknowledged = clock.Elapsed;
        Output?.WriteLine($"sent in {sent.TotalSeconds:F1}s; accepted {counts.Accepted}, refused {counts.Refused} after {acknowledged.TotalSeconds:F1}s; " +
                          $"{(await Database.JournalEventCountsAsync()).Values.Sum()} journal events");
        Assert.Equal(increments, counts.Accepted + counts.Refused);
        Assert.Equal(0, counts.Refused);

        await AwaitAssertAsync(async () =>
        {
            var (rows, sum) = await Database.CountAndSumAsync();
            Assert.Equal((keys, (long)counts.Accepted), (rows, sum));
        }, TimeSpan.FromSeconds(120), TimeSpan.FromSeconds(1));
        Output?.WriteLine($"in the target after {clock.Elapsed.TotalSeconds:F1}s");
    }

    private async Task<Tally.Counts> AwaitTallyAsync(IActorRef tally, int expected)
    {
        Tally.Counts counts = new(0, 0);
        await AwaitAssertAsync(async () =>
        {
            counts = await tally.Ask<Tally.Counts>(Tally.Get.Instance, AskTimeout);
            Assert.Equal(expected, counts.Accepted + counts.Refused);
        }, TimeSpan.FromSeconds(180), TimeSpan.FromSeconds(1));
        return counts;
    }

    private sealed class Tally : ReceiveActor
    {
        private int _accepted;
        private int _refused;

        public Tally()
        {
            Receive<IncrementAccepted>(_ => _accepted++);
            Receive<CounterRejected>(_ => _refused++);
            Receive<Get>(_ => Sender.Tell(new Counts(_accepted, _refused)));
        }

        public sealed record Counts(int Accepted, int Refused);

        public sealed class Get
        {
            public static readonly Get Instance = new();

            private Get()
            {
            }
        }
    }
}

public sealed class CounterJournalLoadSpec(ITestOutputHelper output) : CounterJournalLoadSpecBase(output, new SqliteTestDatabase());

[Collection(PostgresFixture.Collection)]
public sealed class PostgresCounterJournalLoadSpec(ITestOutputHelper output, PostgresFixture postgres)
    : CounterJournalLoadSpecBase(output, new PostgresTestDatabase(postgres));
