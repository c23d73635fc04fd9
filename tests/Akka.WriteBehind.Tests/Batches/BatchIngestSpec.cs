using Akka.WriteBehind.Batches;
using Akka.WriteBehind.Tests.Support;

namespace Akka.WriteBehind.Tests.Batches;

/// <summary>The node-local grouping stage on its own (no actor system): cells per key, arrival order, withdrawal.</summary>
public sealed class BatchIngestSpec
{
    private static BatchCall Call(string key, string entry) =>
        new(new RunOperation(key, Guid.NewGuid(), new Append(entry), DateTime.UtcNow.AddMinutes(1)), long.MaxValue, TimeSpan.FromMinutes(1));

    [Fact]
    public void Should_hand_each_keys_waiting_calls_over_as_one_group_in_arrival_order()
    {
        var ingest = new BatchIngest();
        var a = Enumerable.Range(0, 5).Select(i => Call("a", $"a{i}")).ToArray();
        var b = Call("b", "b0");
        foreach (var call in a.Take(3))
            ingest.Add(call);
        ingest.Add(b);
        foreach (var call in a.Skip(3))
            ingest.Add(call);

        var groups = new List<(string Key, BatchCall[] Calls)>();
        ingest.DrainReady((key, calls) => groups.Add((key, calls)));

        Assert.Equal(2, groups.Count);
        Assert.Equal(["a", "b"], groups.Select(g => g.Key));
        Assert.Equal(a, groups[0].Calls);
        Assert.Equal([b], groups[1].Calls);
        Assert.Equal(0, ingest.Waiting);
    }

    [Fact]
    public void Should_start_a_new_group_for_calls_added_after_a_drain()
    {
        var ingest = new BatchIngest();
        var first = Call("k", "1");
        var second = Call("k", "2");
        ingest.Add(first);
        var groups = new List<BatchCall[]>();
        ingest.DrainReady((_, calls) => groups.Add(calls));

        ingest.Add(second);
        ingest.DrainReady((_, calls) => groups.Add(calls));

        Assert.Equal([[first], [second]], groups);
    }

    [Fact]
    public void Should_withdraw_a_call_only_while_it_waits()
    {
        var ingest = new BatchIngest();
        var kept = Call("k", "kept");
        var withdrawn = Call("k", "withdrawn");
        ingest.Add(kept);
        ingest.Add(withdrawn);

        Assert.True(ingest.TryWithdraw(withdrawn));
        var groups = new List<BatchCall[]>();
        ingest.DrainReady((_, calls) => groups.Add(calls));

        Assert.Equal([[kept]], groups);
        Assert.False(ingest.TryWithdraw(kept)); // already handed over: the entity must cancel it
    }

    [Fact]
    public void Should_send_a_call_once_when_its_cell_was_emptied_by_a_withdrawal_and_filled_again()
    {
        var ingest = new BatchIngest();
        var withdrawn = Call("k", "withdrawn");
        var next = Call("k", "next");
        ingest.Add(withdrawn);
        Assert.True(ingest.TryWithdraw(withdrawn));
        ingest.Add(next); // the cell is ready a second time

        var groups = new List<BatchCall[]>();
        ingest.DrainReady((_, calls) => groups.Add(calls));

        Assert.Equal([[next]], groups);
    }

    [Fact]
    public void Should_keep_a_drained_cell_for_the_keys_next_calls_and_retire_it_after_two_idle_sweeps()
    {
        var ingest = new BatchIngest();
        var groups = new List<BatchCall[]>();
        ingest.Add(Call("a", "a0"));
        ingest.DrainReady((_, calls) => groups.Add(calls));
        Assert.Equal(1, ingest.Cells); // kept for the key's next calls

        ingest.RetireIdleCells(); // empty: marked
        var next = Call("a", "a1");
        ingest.Add(next); // a call clears the mark
        ingest.DrainReady((_, calls) => groups.Add(calls));
        ingest.RetireIdleCells();
        Assert.Equal(1, ingest.Cells);
        ingest.RetireIdleCells(); // empty at two sweeps in a row, no call between: retired
        Assert.Equal(0, ingest.Cells);

        var late = Call("a", "a2");
        ingest.Add(late); // the key's new cell
        ingest.DrainReady((_, calls) => groups.Add(calls));
        Assert.Equal(3, groups.Count);
        Assert.Equal([next], groups[1]);
        Assert.Equal([late], groups[2]);
        Assert.Equal(0, ingest.Waiting);
    }

    [Fact]
    public void Should_give_every_operation_a_distinct_id()
    {
        var first = new BatchIngest();
        var second = new BatchIngest();

        var ids = Enumerable.Range(0, 1000).SelectMany(_ => new[] { first.NewOperationId(), second.NewOperationId() }).ToArray();

        Assert.Equal(ids.Length, ids.Distinct().Count());
    }
}
