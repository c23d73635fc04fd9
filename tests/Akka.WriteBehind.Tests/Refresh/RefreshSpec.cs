using Akka.Actor;
using Akka.WriteBehind.Refresh;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Refresh;

/// <summary>The refresh cycle on one node with a fake syncer: once per cycle, failures isolated, terminal and deleted items stop.</summary>
public sealed class RefreshSpec(ITestOutputHelper output) : RefreshSpecBase(output)
{
    private static readonly string[] Ids = Enumerable.Range(1, 12).Select(i => $"job-{i}").ToArray();

    [Fact]
    public async Task Should_refresh_every_item_once_per_cycle()
    {
        foreach (var id in Ids)
            await CreateAsync(id);

        // once per cycle: no item gets ahead of the cycles (synced twice in one) or falls behind the others (stuck)
        await AssertSyncedOncePerCycleAsync(Ids, syncs: 5);
        var state = await SupervisorStateAsync();

        // the entity holds and serves the synced state
        var item = Assert.IsType<RefreshItemReply>(await AskAsync(new GetItem("job-1"))).Item;
        Assert.StartsWith("{\"syncs\":", item.State);
        Assert.Equal(12, state.Tracked.Count);
    }

    [Fact]
    public async Task Should_isolate_a_failing_item_and_retry_it_next_cycle()
    {
        Syncer.Outcome = (item, n) => item.Id switch
        {
            "bad" => SyncResult.Failed(item.Id, "upstream says no"),
            "boom" => throw new InvalidOperationException("the syncer crashed on boom"),
            _ => SyncResult.Updated(item with { State = $"{{\"syncs\":{n}}}" }),
        };
        foreach (var id in Ids.Take(4).Append("bad").Append("boom"))
            await CreateAsync(id);

        await UntilAsync(() => Ids.Take(4).All(id => Syncer.Count(id) >= 4) && Syncer.Count("bad") >= 4 && Syncer.Count("boom") >= 4,
            "good items refreshed and failing items retried every cycle");

        // failing items keep their last good state; the others move on
        Assert.Equal("{}", Assert.IsType<RefreshItemReply>(await AskAsync(new GetItem("bad"))).Item.State);
        Assert.Equal("{}", Assert.IsType<RefreshItemReply>(await AskAsync(new GetItem("boom"))).Item.State);
        Assert.NotEqual("{}", Assert.IsType<RefreshItemReply>(await AskAsync(new GetItem(Ids[0]))).Item.State);
        Assert.Equal(6, (await SupervisorStateAsync()).Tracked.Count);
    }

    [Fact]
    public async Task Should_stop_refreshing_terminal_deleted_and_vanished_items()
    {
        Syncer.Outcome = (item, n) => item.Id switch
        {
            "done" when n >= 2 => SyncResult.Updated(new RefreshItem(item.Id, "{\"status\":\"succeeded\"}", Terminal: true)),
            "vanished" when n >= 2 => SyncResult.Deleted(item.Id),
            _ => SyncResult.Unchanged(item.Id),
        };
        foreach (var id in new[] { "done", "vanished", "deleted", "live" })
            await CreateAsync(id);
        await UntilAsync(() => Syncer.Count("done") >= 2 && Syncer.Count("vanished") >= 2 && Syncer.Count("deleted") >= 1, "first syncs");

        Assert.IsType<RefreshItemDeleted>(await AskAsync(new DeleteItem("deleted")));
        var afterDelete = Syncer.Count("deleted");
        var live = Syncer.Count("live");
        await UntilAsync(() => Syncer.Count("live") >= live + 4, "four more cycles");

        Assert.Equal(2, Syncer.Count("done"));
        Assert.Equal(2, Syncer.Count("vanished"));
        Assert.InRange(Syncer.Count("deleted"), afterDelete, afterDelete + 1); // a sync already in flight may finish
        var done = Assert.IsType<RefreshItemReply>(await AskAsync(new GetItem("done"))).Item;
        Assert.True(done.Terminal);
        Assert.Equal("{\"status\":\"succeeded\"}", done.State);
        Assert.Equal(ErrorCode.NotFound, Assert.IsType<RefreshRejected>(await AskAsync(new GetItem("vanished"))).Code);
        Assert.Equal(ErrorCode.NotFound, Assert.IsType<RefreshRejected>(await AskAsync(new GetItem("deleted"))).Code);
        Assert.Null(await Store.LoadAsync("deleted"));
        Assert.Null(await Store.LoadAsync("vanished"));
        Assert.True((await Store.LoadAsync("done"))!.Terminal);
        Assert.Equal(["live"], (await SupervisorStateAsync()).Tracked);
    }

    [Fact]
    public async Task Should_resume_refreshing_after_the_supervisor_crashes_and_is_restarted()
    {
        foreach (var id in Ids.Take(3))
            await CreateAsync(id);
        await UntilAsync(() => Ids.Take(3).All(id => Syncer.Count(id) >= 2), "refreshed before the crash");
        var supervisor = await Sys.ActorSelection(Refresh.Supervisor.Path / "supervisor").ResolveOne(AskTimeout);

        Watch(supervisor);
        supervisor.Tell(Kill.Instance);
        await ExpectTerminatedAsync(supervisor, AskTimeout);

        // the back-off supervisor starts a new one; each entity sees its supervisor die and tracks its item again
        await UntilAsync(() => Ids.Take(3).All(id => Syncer.Count(id) >= 2), "baseline");
        var before = Ids.Take(3).ToDictionary(id => id, Syncer.Count);
        await UntilAsync(() => before.All(b => Syncer.Count(b.Key) >= b.Value + 3), "refreshed by the new supervisor");
        Assert.Equal(3, (await SupervisorStateAsync()).Tracked.Count);
    }

    [Fact]
    public async Task Should_answer_commands_with_typed_replies()
    {
        // the states asserted below are the commands' own: the periodic syncs of the tracked items must not change them
        Syncer.Outcome = (item, _) => SyncResult.Unchanged(item.Id);
        var created = Assert.IsType<RefreshItemReply>(await AskAsync(new GetOrCreateItem(new RefreshItem("a", "{\"v\":1}"))));
        Assert.True(created.Created);
        var again = Assert.IsType<RefreshItemReply>(await AskAsync(new GetOrCreateItem(new RefreshItem("a", "{\"v\":2}"))));
        Assert.False(again.Created);
        Assert.Equal("{\"v\":1}", again.Item.State);

        Assert.Equal(ErrorCode.NotFound, Assert.IsType<RefreshRejected>(await AskAsync(new GetItem("nobody"))).Code);
        Assert.Equal(ErrorCode.NotFound, Assert.IsType<RefreshRejected>(await AskAsync(new UpdateItem(new RefreshItem("nobody", "{}")))).Code);
        Assert.Equal(ErrorCode.NotFound, Assert.IsType<RefreshRejected>(await AskAsync(new DeleteItem("nobody"))).Code);
        Assert.Null(await Store.LoadAsync("nobody"));

        var updated = Assert.IsType<RefreshItemReply>(await AskAsync(new UpdateItem(new RefreshItem("a", "{\"v\":3}"))));
        Assert.Equal("{\"v\":3}", updated.Item.State);
        Assert.Equal("{\"v\":3}", (await Store.LoadAsync("a"))!.State);
        Assert.True(Assert.IsType<RefreshItemReply>(await AskAsync(new PutItem(new RefreshItem("b", "[]")))).Created);
        Assert.False(Assert.IsType<RefreshItemReply>(await AskAsync(new PutItem(new RefreshItem("b", "[1]")))).Created);
        Assert.Equal("[1]", (await Store.LoadAsync("b"))!.State);

        Assert.Equal(ErrorCode.InvalidKey, Assert.IsType<RefreshRejected>(await AskAsync(new GetItem(""))).Code);
        Assert.Equal(ErrorCode.InvalidKey, Assert.IsType<RefreshRejected>(await AskAsync(new GetItem(new string('k', 257)))).Code);
        Assert.Equal(ErrorCode.InvalidKey, Assert.IsType<RefreshRejected>(await AskAsync(new PutItem(new RefreshItem("a\u0001", "{}")))).Code);
        Assert.Equal(ErrorCode.InvalidArgument, Assert.IsType<RefreshRejected>(await AskAsync(new PutItem(new RefreshItem("a", null!)))).Code);
        Assert.Equal("{\"v\":3}", (await Store.LoadAsync("a"))!.State);
    }
}

/// <summary>The refresh instruments on the Akka.WriteBehind meter.</summary>
public sealed class RefreshMetricsSpec(ITestOutputHelper output) : RefreshSpecBase(output, """
    akka.write-behind.refresh.type-name = "refresh-metrics-spec"
    """)
{
    [Fact]
    public async Task Should_publish_syncs_errors_latency_cycles_and_items()
    {
        var measured = new System.Collections.Concurrent.ConcurrentDictionary<string, double>();
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "Akka.WriteBehind" && instrument.Name.StartsWith("akka.write_behind.refresh.", StringComparison.Ordinal))
                l.EnableMeasurementEvents(instrument);
        };
        void Record(System.Diagnostics.Metrics.Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var name = instrument.Name["akka.write_behind.refresh.".Length..];
            var mine = false;
            foreach (var tag in tags)
            {
                if (tag is { Key: "refresh_set", Value: "refresh-metrics-spec" })
                    mine = true;
                if (tag.Key == "outcome")
                    name += ":" + tag.Value;
            }

            if (mine)
                measured.AddOrUpdate(name, value, (_, v) => instrument.Name.EndsWith("items", StringComparison.Ordinal) ? value : v + value);
        }

        listener.SetMeasurementEventCallback<long>((i, v, t, _) => Record(i, v, t));
        listener.SetMeasurementEventCallback<double>((i, _, t, _) => Record(i, 1, t)); // histograms: count recordings
        listener.Start();
        Syncer.Outcome = (item, n) => item.Id == "bad" ? SyncResult.Failed(item.Id, "no") : SyncResult.Unchanged(item.Id);

        foreach (var id in new[] { "m-1", "m-2", "bad" })
            await CreateAsync(id);
        await UntilAsync(() => Syncer.Count("bad") >= 3 && Syncer.Count("m-1") >= 3, "three cycles");

        // the syncer counts a call before the supervisor records its outcome, and cycles go on meanwhile: wait for the
        // instruments themselves, and assert on one snapshot taken between two recordings
        var seen = new Dictionary<string, double>();
        await UntilAsync(() =>
        {
            listener.RecordObservableInstruments();
            seen = new Dictionary<string, double>(measured);
            return seen.GetValueOrDefault("syncs:unchanged") >= 6 && seen.GetValueOrDefault("syncs:failed") >= 3
                && seen.GetValueOrDefault("cycle_duration") >= 2
                && seen.GetValueOrDefault("syncs:failed") == seen.GetValueOrDefault("sync_errors");
        }, "sync outcomes, errors and cycles recorded");

        Assert.True(seen.GetValueOrDefault("syncs:unchanged") >= 6, "unchanged syncs counted");
        Assert.True(seen.GetValueOrDefault("syncs:failed") >= 3, "failed syncs counted");
        Assert.Equal(seen.GetValueOrDefault("syncs:failed"), seen.GetValueOrDefault("sync_errors"));
        Assert.True(seen.GetValueOrDefault("sync_latency") >= 1, "sync latency recorded");
        Assert.True(seen.GetValueOrDefault("cycle_duration") >= 2, "cycle durations recorded");
        Assert.Equal(3, seen.GetValueOrDefault("items"));
    }
}
