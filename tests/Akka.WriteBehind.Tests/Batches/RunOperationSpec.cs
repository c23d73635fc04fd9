using Akka.WriteBehind.Batches;

namespace Akka.WriteBehind.Tests.Batches;

/// <summary>
/// A <see cref="RunOperation"/> is a value: the local call a node's grouping stage attaches to it for a direct answer is how
/// it travels, not what it is, so a copy that crossed nodes (which has none) equals the original.
/// </summary>
public sealed class RunOperationSpec
{
    private sealed record Deposit(long Amount) : IBatchOperation<long>;

    private static RunOperation Run(string? requestId = "r-1") =>
        new("acct-1", Guid.Parse("6f1c2d3e-4a5b-4c6d-8e7f-901234567890"), new Deposit(5), new DateTime(2026, 12, 6, 12, 0, 0, DateTimeKind.Utc),
            requestId) { CalledAt = new DateTime(2026, 12, 6, 11, 59, 0, DateTimeKind.Utc) };

    [Fact]
    public void Should_equal_its_copy_without_the_local_call()
    {
        var sent = Run();
        sent.LocalCall = new BatchCall(sent, answerBy: 0, TimeSpan.FromSeconds(30));
        var received = Run();

        Assert.Equal(received, sent);
        Assert.Equal(received.GetHashCode(), sent.GetHashCode());
    }

    [Fact]
    public void Should_differ_in_any_property()
    {
        var run = Run();
        Assert.NotEqual(run, run with { Key = "acct-2" });
        Assert.NotEqual(run, run with { OperationId = Guid.NewGuid() });
        Assert.NotEqual(run, run with { Operation = new Deposit(6) });
        Assert.NotEqual(run, run with { Deadline = run.Deadline.AddSeconds(1) });
        Assert.NotEqual(run, Run(requestId: null));
        Assert.NotEqual(run, run with { CalledAt = default });
        Assert.False(run.Equals(null));
    }
}
