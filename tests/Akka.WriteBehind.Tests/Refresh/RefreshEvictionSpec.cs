using System.Diagnostics.Metrics;
using Akka.WriteBehind.Refresh;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Refresh;

/// <summary>At max-items-per-node the least recently used item is evicted: no longer refreshed here until a caller touches it.</summary>
public sealed class RefreshEvictionSpec(ITestOutputHelper output) : RefreshSpecBase(output, """
    akka.write-behind.refresh.max-items-per-node = 3
    """)
{
    [Fact]
    public async Task Should_evict_the_least_recently_used_item_at_the_cap_and_bring_it_back_when_touched()
    {
        long evictions = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "Akka.WriteBehind" && instrument.Name == "akka.write_behind.refresh.evictions")
                l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
                if (tag is { Key: "refresh_set", Value: "write-behind-refresh" })
                    Interlocked.Add(ref evictions, value);
        });
        listener.Start();

        foreach (var id in new[] { "a", "b", "c" })
            await CreateAsync(id);
        await UntilAsync(() => Syncer.Count("a") >= 1, "a synced");
        await AskAsync(new GetItem("a")); // a is now the most recently used; b the least

        await CreateAsync("d");

        await UntilAsync(() => Interlocked.Read(ref evictions) == 1, "one eviction");
        var state = await SupervisorStateAsync();
        Assert.Equal(["a", "c", "d"], state.Tracked.Order());
        var b = Syncer.Count("b");
        await UntilAsync(() => new[] { "a", "c", "d" }.All(id => Syncer.Count(id) >= b + 3), "three more cycles of the others");
        Assert.InRange(Syncer.Count("b"), b, b + 1); // a sync in flight at the eviction may still finish

        // reading b brings it back (its state was stored) and evicts the least recently used, c
        Assert.IsType<RefreshItemReply>(await AskAsync(new GetItem("b")));
        await UntilAsync(() => Syncer.Count("b") >= b + 3, "b refreshed again");
        Assert.Equal(["a", "b", "d"], (await SupervisorStateAsync()).Tracked.Order());
        Assert.Equal(2, Interlocked.Read(ref evictions));
    }
}
