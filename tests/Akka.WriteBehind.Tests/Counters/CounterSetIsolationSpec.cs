using Akka.Actor;
using Akka.WriteBehind.Counters;
using Akka.WriteBehind.Tests.Support;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Counters;

/// <summary>Two counter sets on one SQLite file: each keeps its own rows, so neither set's acknowledged increments are lost.</summary>
public sealed class CounterSetIsolationSpec(ITestOutputHelper output)
    : CounterSpecBase(output, "akka.write-behind.counters.flush-interval = 1h")
{
    [Fact]
    public async Task Should_store_both_sets_increments_of_the_same_key()
    {
        // a second set on the same database file, started like the default one but under another type name
        var other = await WriteBehindCounters.StartAsync(Sys, Database.CreateStore(),
            Counters.Settings with { TypeName = "other-counters" });
        Assert.Equal("counters_other_counters", other.Settings.TableName);

        // both acknowledged before either flushes
        Assert.Equal(new IncrementAccepted("k", 5), await AskAsync(new Increment("k", 5)));
        Assert.Equal(new IncrementAccepted("k", 7), await other.Region.Ask<ICounterReply>(new Increment("k", 7), AskTimeout));

        Assert.Equal(new CounterFlushed("k", 5), await AskAsync(new FlushCounter("k")));
        Assert.Equal(new CounterFlushed("k", 7), await other.Region.Ask<ICounterReply>(new FlushCounter("k"), AskTimeout));

        // the default set keeps the table "counters"; the other set's row is in its own table
        Assert.Equal(new StoredCounter(5, 1), (await Target.ReadAsync(["k"]))["k"]);
        var otherTable = ((ICounterTableStore)Database.CreateStore()).WithTable("counters_other_counters");
        Assert.Equal(new StoredCounter(7, 1), (await otherTable.ReadAsync(["k"]))["k"]);
    }
}
