using Akka.WriteBehind.Batches;

namespace Akka.WriteBehind.Tests.Batches;

/// <summary>The grouping stage finds its calls by the number in their operation ids, and knows ids it did not make.</summary>
public sealed class BatchIngestNumbersSpec
{
    [Fact]
    public void Should_number_its_own_ids_one_by_one_and_refuse_ids_it_did_not_make()
    {
        var ingest = new BatchIngest();
        var other = new BatchIngest();
        var numbers = Enumerable.Range(0, 100).Select(_ =>
        {
            Assert.True(ingest.TryNumberOf(ingest.NewOperationId(), out var number));
            return number;
        }).ToArray();

        Assert.Equal(Enumerable.Range(1, 100).Select(i => (long)i), numbers);
        Assert.False(ingest.TryNumberOf(other.NewOperationId(), out _));
        Assert.False(ingest.TryNumberOf(Guid.NewGuid(), out _));
    }
}
