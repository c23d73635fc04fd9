using System.Diagnostics;
using Akka.WriteBehind.Refresh;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Refresh;

/// <summary>The rate limit: no window of the sync log holds more than rate × window + burst (plus a small slack).</summary>
public sealed class RefreshThrottleSpec(ITestOutputHelper output) : RefreshSpecBase(output, """
    akka.write-behind.refresh { tps = 20, burst = 5, batch-size = 1, parallelism = 4, resync-period = 200ms }
    """)
{
    private const double Rate = 20;
    private const int Burst = 5;

    // syncs are timed at the syncer, after the throttle: a loaded machine may hold a few back and deliver them together.
    // A quarter second of such delay is tolerated (5 syncs at 20/s), plus the token refilled in a window's first instant.
    private const double Slack = 1 + Rate * 0.25;

    [Fact]
    public async Task Should_hold_the_configured_rate_and_burst_and_skip_cycles_that_are_due_while_one_runs()
    {
        var ids = Enumerable.Range(1, 30).Select(i => $"t-{i}").ToArray();
        foreach (var id in ids)
            await CreateAsync(id);

        await UntilAsync(() => Syncer.Log.Count >= 70, "70 syncs");

        var times = Syncer.Log.Select(e => e.At).Order().ToArray();
        var worst = 0.0;
        for (var i = 0; i < times.Length; i++)
        {
            for (var j = i; j < times.Length; j++)
            {
                var window = Stopwatch.GetElapsedTime(times[i], times[j]).TotalSeconds;
                var allowed = Rate * window + Burst + Slack;
                worst = Math.Max(worst, (j - i + 1) - Rate * window);
                Assert.True(j - i + 1 <= allowed, $"{j - i + 1} syncs within {window:F3}s; at most {allowed:F1} allowed");
            }
        }

        var total = Stopwatch.GetElapsedTime(times[0], times[^1]).TotalSeconds;
        Output?.WriteLine($"{times.Length} syncs in {total:F2}s = {(times.Length - 1) / total:F1}/s (rate {Rate}/s, burst {Burst}); worst excess over the rate {worst:F1}");

        Assert.True((times.Length - Burst) / total <= Rate * 1.05, $"{times.Length} syncs in {total:F2}s");

        // a cycle of 30 items takes ~1.5s at 20/s: the 200ms ticks in between are skipped, never run alongside it
        var state = await SupervisorStateAsync();
        Assert.True(state.CyclesSkipped > 0, "cycles due while one runs are skipped");
        Assert.Equal(1, Syncer.MaxActivePerItem);
    }
}

/// <summary>A syncer slower than the resync period: cycles are skipped, never overlap, and no item is in two syncs at once.</summary>
public sealed class RefreshSlowSyncerSpec(ITestOutputHelper output) : RefreshSpecBase(output, """
    akka.write-behind.refresh { resync-period = 200ms, batch-size = 2, parallelism = 2, sync-on-create = on }
    """)
{
    [Fact]
    public async Task Should_never_overlap_cycles_or_sync_an_item_twice_at_once()
    {
        Syncer.Delay = TimeSpan.FromMilliseconds(400); // a cycle of 4 items (2 batches of 2, 2 in parallel) takes >= 400ms
        var ids = Enumerable.Range(1, 4).Select(i => $"slow-{i}").ToArray();
        foreach (var id in ids)
            await CreateAsync(id); // sync-on-create: each is queued at once, while cycles also pick it up

        await UntilAsync(() => ids.All(id => Syncer.Count(id) >= 4), "four syncs of every item");

        var state = await SupervisorStateAsync();
        Output?.WriteLine($"cycles started {state.CyclesStarted}, skipped {state.CyclesSkipped}, syncer calls {Syncer.Calls}");
        Assert.Equal(1, Syncer.MaxActivePerItem);
        Assert.True(state.CyclesSkipped > 0, "ticks while a cycle runs are skipped");
        var counts = ids.Select(Syncer.Count).ToArray();
        Assert.True(counts.Max() - counts.Min() <= 1, $"counts {string.Join(",", counts)}");
    }
}

/// <summary>One syncer call, as the stream runs it: every item gets a result whatever the syncer does.</summary>
public sealed class RefreshSyncCallSpec
{
    private static readonly RefreshItem[] Items = [new("a", "{}"), new("b", "{}"), new("c", "{}")];

    [Fact]
    public void Should_share_the_cluster_budget_among_up_members()
    {
        Assert.Equal(new RefreshRate(100, 10), RefreshRate.Of(100, 10, TpsScope.Node, 4));
        Assert.Equal(new RefreshRate(100, 10), RefreshRate.Of(100, 10, TpsScope.Cluster, 1));
        Assert.Equal(new RefreshRate(100, 10), RefreshRate.Of(100, 10, TpsScope.Cluster, 0));
        Assert.Equal(new RefreshRate(25, 2), RefreshRate.Of(100, 10, TpsScope.Cluster, 4));
        var third = RefreshRate.Of(10, 2, TpsScope.Cluster, 3);
        Assert.Equal(10.0 / 3, third.PerSecond, 6);
        Assert.Equal(1, third.Burst);
        Assert.Equal(TimeSpan.FromMilliseconds(300), third.Interval);
    }

    [Fact]
    public async Task Should_fail_every_item_of_a_call_that_hangs_past_the_sync_timeout()
    {
        var never = new TaskCompletionSource<IReadOnlyList<SyncResult>>();
        var syncer = new DelegateSyncer((_, _) => never.Task); // ignores its token on purpose

        var done = await RefreshSupervisorActor.SyncAsync(syncer, Items, TimeSpan.FromMilliseconds(200), 1, CancellationToken.None)
            .WaitAsync(TimeSpan.FromSeconds(30));

        Assert.All(done.Results, r => Assert.Contains("sync-timeout", Assert.IsType<SyncFailed>(r).Reason));
        Assert.Equal(["a", "b", "c"], done.Results.Select(r => r.Id));
        Assert.NotNull(done.Error);
    }

    [Fact]
    public async Task Should_fail_every_item_of_a_call_that_throws()
    {
        var syncer = new DelegateSyncer((_, _) => throw new InvalidOperationException("kaput"));

        var done = await RefreshSupervisorActor.SyncAsync(syncer, Items, TimeSpan.FromSeconds(5), 1, CancellationToken.None);

        Assert.All(done.Results, r => Assert.Contains("kaput", Assert.IsType<SyncFailed>(r).Reason));
    }

    [Fact]
    public async Task Should_fail_items_the_syncer_left_out_and_ignore_ids_it_made_up()
    {
        var syncer = new DelegateSyncer((items, _) => Task.FromResult<IReadOnlyList<SyncResult>>(
            [SyncResult.Unchanged("a"), SyncResult.Deleted("zzz"), SyncResult.Updated(new RefreshItem("c", "{\"x\":1}"))]));

        var done = await RefreshSupervisorActor.SyncAsync(syncer, Items, TimeSpan.FromSeconds(5), 1, CancellationToken.None);

        Assert.IsType<SyncUnchanged>(done.Results[0]);
        Assert.IsType<SyncFailed>(done.Results[1]);
        Assert.Equal("{\"x\":1}", Assert.IsType<SyncUpdated>(done.Results[2]).Item.State);
        Assert.Null(done.Error);
    }

    private sealed class DelegateSyncer(Func<IReadOnlyList<RefreshItem>, CancellationToken, Task<IReadOnlyList<SyncResult>>> sync) : IItemSyncer
    {
        public Task<IReadOnlyList<SyncResult>> SyncAsync(IReadOnlyList<RefreshItem> items, CancellationToken cancellationToken) =>
            sync(items, cancellationToken);
    }
}
