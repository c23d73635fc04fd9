using Akka.WriteBehind.Counters;

namespace Akka.WriteBehind.Tests.Counters;

/// <summary>The request-id bookkeeping the counter stores share, without a database.</summary>
public sealed class CounterRequestsSpec
{
    private static readonly DateTimeOffset Later = DateTimeOffset.UtcNow.AddMinutes(10);

    private static CounterWrite Write(string key, long delta, long seq, params (string Id, long Delta)[] requests) =>
        new(key, delta, seq) { Requests = requests.Select(r => new CounterRequest(r.Id, r.Delta, Later)).ToArray() };

    [Fact]
    public void Should_record_the_requests_of_the_writes_that_apply_each_once()
    {
        CounterWrite[] writes = [Write("k", 5, 1, ("a", 5)), Write("k", 6, 2, ("a", 5), ("b", 1)), Write("j", 1, 4, ("a", 1))];
        var applied = new Dictionary<string, long> { ["k"] = 1 }; // write 1 of k is applied already
        var toRecord = CounterRequests.ToRecord(writes, applied);
        Assert.Equal([("k", "a"), ("k", "b"), ("j", "a")], toRecord.Select(r => (r.Key, r.Request.Id)));
    }

    [Fact]
    public void Should_leave_out_the_deltas_of_ids_that_were_not_new()
    {
        // 14 = a (5) + b (3) + a again (5) + 1 without an id
        CounterWrite[] writes = [Write("k", 14, 2, ("a", 5), ("b", 3), ("a", 5))];
        var none = new Dictionary<string, long>();

        // a was recorded before: both of its occurrences leave
        Assert.Equal(4, CounterRequests.Adjust(writes, none, new HashSet<(string, string)> { ("k", "b") })[0].Delta);
        // a is new: its first occurrence counts, the second is a repeat
        Assert.Equal(9, CounterRequests.Adjust(writes, none, new HashSet<(string, string)> { ("k", "a"), ("k", "b") })[0].Delta);
    }

    [Fact]
    public void Should_keep_a_skipped_write_as_it_is()
    {
        CounterWrite[] writes = [Write("k", 5, 1, ("a", 5))];
        var adjusted = CounterRequests.Adjust(writes, new Dictionary<string, long> { ["k"] = 1 }, new HashSet<(string, string)>());
        Assert.Same(writes[0], adjusted[0]);
    }
}
