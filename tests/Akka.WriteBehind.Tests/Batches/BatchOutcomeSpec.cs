using Akka.WriteBehind.Batches;
using Akka.WriteBehind.Tests.Support;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Batches;

/// <summary>A handler that returns no outcome (the <c>default</c> value) has the operation refused, the resource unchanged.</summary>
public sealed class BatchOutcomeSpec(ITestOutputHelper output) : TapeSpecBase(output, """
    akka.write-behind.batches.types.tapes {
      min-duration = 100ms
    }
    """)
{
    /// <summary>Appends like the tape handler, but answers <see cref="Refuse"/> with no outcome at all.</summary>
    private sealed class ForgetfulHandler : OperationHandler<Tape>
    {
        public override OperationOutcome<Tape> Apply(string key, Tape tape, IBatchOperation operation) =>
            operation is Refuse ? default : TapeHandler.Instance.Apply(key, tape, operation);
    }

    internal override OperationHandler<Tape> Handler { get; } = new ForgetfulHandler();

    [Fact]
    public async Task Should_refuse_an_operation_whose_handler_returned_no_outcome_and_keep_the_rest_of_the_batch()
    {
        var first = RunAsync("forgetful", new Append("a"));
        var forgotten = RunAsync("forgetful", new Refuse("ignored"));
        var last = RunAsync("forgetful", new Append("b"));

        Assert.Equal(1, (await first.WaitAsync(AwaitTimeout)).Length);
        var failure = await FailureOf(forgotten);
        Assert.Equal(ErrorCode.Rejected, failure.Code);
        Assert.True(failure.IsRejection);
        Assert.Contains("no outcome", failure.Message);
        Assert.Equal(2, (await last.WaitAsync(AwaitTimeout)).Length);
        await AwaitAssertAsync(() => Assert.Equal(["a", "b"], Store.Entries("forgetful")), AwaitTimeout);
    }
}
