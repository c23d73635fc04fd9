using Akka.WriteBehind.Counters;
using Akka.WriteBehind.Tests.Support;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Counters;

/// <summary>
/// The node's bound on live counter entities: a flood of 40 times more distinct keys than <c>max-live-entities</c> keeps the
/// live entities (the gauge) within about twice the limit, loses nothing (evicted counters flush first, and a key touched again after its
/// eviction starts from its row), and the set stays answerable.
/// </summary>
public sealed class CounterLiveEntitiesSpec : CounterSpecBase, IDisposable
{
    private const string CounterSet = "live-limit-spec-counters";
    private const int Limit = 500;
    private const int Keys = 20_000;
    private const int Concurrency = 500; // new keys in flight at once

    // the fast path starts new entities only while fewer than twice the limit are alive (those beyond the limit are on
    // their way out, each flushing before it stops): measured peak 1,000. Keys re-touched while their entity stops are
    // started again by their shard, outside that count
    private const int Slack = 2 * Limit;

    private readonly ITestOutputHelper _output;
    private readonly CounterGauge _live = new("akka.write_behind.counters.live_entities", CounterSet);
    private readonly CounterGauge _evictions = new("akka.write_behind.counters.evictions", CounterSet);

    public CounterLiveEntitiesSpec(ITestOutputHelper output) : base(output, $$"""
        akka.write-behind.counters {
          type-name = {{CounterSet}}
          max-live-entities = {{Limit}}
        }
        """)
    {
        _output = output;
    }

    [Fact]
    public async Task Should_keep_live_entities_near_the_limit_and_lose_nothing_under_a_flood_of_new_keys()
    {
        var expected = new Dictionary<string, long>(StringComparer.Ordinal);
        var peak = 0L;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                peak = Math.Max(peak, Live());
                await Task.Delay(10);
            }
        });

        // the flood: every key once, then every tenth key again (long evicted by then: it restarts from its row)
        for (var round = 0; round < 2; round++)
        {
            for (var start = 0; start < Keys; start += Concurrency)
            {
                var keys = Enumerable.Range(start, Concurrency).Where(i => round == 0 || i % 10 == 0).Select(i => $"flood-{i}").ToList();
                var replies = await Task.WhenAll(keys.Select((key, i) => Counters.IncrementAsync(key, round * 1_000 + i + 1)));
                Assert.All(replies, r => Assert.IsType<IncrementAccepted>(r));
                for (var i = 0; i < keys.Count; i++)
                    expected[keys[i]] = expected.GetValueOrDefault(keys[i]) + round * 1_000 + i + 1;
            }
        }

        await sampling.CancelAsync();
        await sampler;
        _output.WriteLine($"peak live entities {peak}, now {Live()}, evictions {Evictions()}");
        Assert.True(peak <= Limit + Slack, $"peak of {peak} live entities; the limit is {Limit} (+{Slack} slack)");
        Assert.True(Evictions() >= Keys - Limit - Slack, $"only {Evictions()} evictions for {Keys} keys");

        // still answerable, read-your-writes across an eviction
        foreach (var key in new[] { "flood-0", "flood-10", "flood-19990", "flood-7" })
            Assert.Equal(expected[key], Assert.IsType<CounterValue>(await AskAsync(new GetCounter(key))).Total);

        // nothing lost: every key's row holds exactly what was sent
        Assert.IsType<AllCountersFlushed>(await Counters.FlushAllAsync());
        var rows = await ((Akka.WriteBehind.Counters.ICounterTableStore)Target).WithTable(Counters.Settings.TableName).ReadAsync(expected.Keys.ToList());
        var wrong = expected.Where(kv => !rows.TryGetValue(kv.Key, out var row) || row.Value != kv.Value).Take(5).ToList();
        Assert.True(wrong.Count == 0, $"rows differ: {string.Join(", ", wrong.Select(kv => $"{kv.Key}={kv.Value} stored {(rows.TryGetValue(kv.Key, out var r) ? r.Value : null)}"))}");
    }

    public new void Dispose()
    {
        _live.Dispose();
        _evictions.Dispose();
        base.Dispose();
    }

    private long Live() => _live.Read();

    private long Evictions() => _evictions.Read();
}

/// <summary>
/// A flood of new keys faster than the store takes writes (writes held back at the store): evicted counters cannot flush
/// and stop, so the fast path holds the new keys' increments back instead of starting entities for them — live entities
/// stay within twice the limit. Once the store writes again, every increment is acknowledged and stored exactly.
/// </summary>
public sealed class CounterLiveEntitiesBackPressureSpec : CounterSpecBase
{
    private const int Limit = 100;
    private const int Keys = 2_000;
    private readonly GatedStore _store;

    public CounterLiveEntitiesBackPressureSpec(ITestOutputHelper output) : base(output, $$"""
        akka.write-behind.counters {
          max-live-entities = {{Limit}}
          # the held-back writes must not time out and retry while the spec watches
          store-writer.write-timeout = 60s
        }
        """)
    {
        _store = new GatedStore(Target, gateReads: false, gateWrites: true);
        Store = _store;
    }

    [Fact]
    public async Task Should_hold_new_keys_back_while_evicted_counters_cannot_flush()
    {
        var increments = Enumerable.Range(0, Keys).Select(i => Counters.IncrementAsync($"held-{i}", i + 1)).ToList();

        // the entities of the first keys start, are evicted, and wait for their writes; the rest wait in the fast path
        await AwaitAssertAsync(async () => Assert.True(await LiveAsync() >= Limit), AwaitTimeout);
        await Task.Delay(TimeSpan.FromSeconds(1)); // ample time for more entities to start, were they not held back
        var live = await LiveAsync();
        Assert.True(live <= 2 * Limit, $"{live} live entities while the store takes no writes; the limit is {Limit}");
        Assert.True(increments.Count(t => t.IsCompleted) < Keys, "new keys should be held back, not all acknowledged");

        _store.Open();
        var replies = await Task.WhenAll(increments).WaitAsync(AwaitTimeout);
        Assert.All(replies, r => Assert.IsType<IncrementAccepted>(r));
        Assert.IsType<AllCountersFlushed>(await Counters.FlushAllAsync());
        var rows = await Database.ReadCountersAsync();
        Assert.Equal(Enumerable.Range(0, Keys).ToDictionary(i => $"held-{i}", i => (long)i + 1), rows);
    }

    private async Task<int> LiveAsync() => await CounterRegions.EntitiesAsync(Counters);
}

/// <summary>The order of evictions, without actors: the oldest goes first, an entity used since the last lap gets a second chance.</summary>
public sealed class CounterLiveEntitiesOrderSpec
{
    [Fact]
    public void Should_evict_the_oldest_entity_not_touched_since()
    {
        var live = new CounterLiveEntities(limit: 2);
        var a = Start(live);
        var b = Start(live);

        // every entity is marked by its start: one lap clears the marks, then the oldest goes
        var c = Start(live);
        Assert.True(Evicted(a), "a is the oldest");
        Assert.False(Evicted(b) || Evicted(c));
        Assert.Equal(1, live.Evictions);
        Assert.Equal(3, live.Live); // a counts until it stops

        // b is older than c, but used since the lap
        live.Touch(b);
        var d = Start(live);
        Assert.True(Evicted(c), "c was not used since the lap");
        Assert.False(Evicted(b) || Evicted(d));
        Assert.Equal(2, live.Evictions);
    }

    [Fact]
    public void Should_not_evict_the_entity_just_started_when_every_older_one_was_used()
    {
        var live = new CounterLiveEntities(limit: 2);
        var a = Start(live);
        var b = Start(live);
        live.Touch(a);
        live.Touch(b);

        var c = Start(live);

        Assert.False(Evicted(c), "the new entity is about to take its first command");
        Assert.True(Evicted(a), "after one lap the oldest goes");
        Assert.False(Evicted(b));
    }

    [Fact]
    public void Should_evict_in_start_order_when_nothing_was_touched_and_forget_stopped_entities()
    {
        var live = new CounterLiveEntities(limit: 2);
        var a = Start(live);
        var b = Start(live);
        live.Stopped(a);
        var c = Start(live);
        Assert.Equal(0, live.Evictions);

        var d = Start(live);
        Assert.True(Evicted(b));
        Assert.False(Evicted(c) || Evicted(d));
        Assert.Equal(3, live.Live);
    }

    // nobody hears the eviction here: the entity's place in the order tells it
    private static CounterLiveEntities.Entity Start(CounterLiveEntities live) => live.Started(Akka.Actor.ActorRefs.Nobody);

    private static bool Evicted(CounterLiveEntities.Entity entity) => entity.Node.List is null;
}
