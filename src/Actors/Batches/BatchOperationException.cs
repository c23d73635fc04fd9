namespace Akka.WriteBehind.Batches;

/// <summary>
/// A batch operation did not succeed: the typed outcome of <see cref="BatchProcessor{TResource}.RunAsync{TResult}(string, IBatchOperation{TResult}, TimeSpan, CancellationToken)"/>
/// other than a result. Switch on <see cref="WriteBehindException.Code"/>.
/// </summary>
public sealed class BatchOperationException : WriteBehindException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="key">The resource's key.</param>
    /// <param name="code">Why, as a code.</param>
    /// <param name="message">Why, for people.</param>
    /// <param name="isRejection">The handler refused the operation (rather than the batch failing or the operation not running).</param>
    public BatchOperationException(string key, ErrorCode code, string message, bool isRejection)
        : base(key, code, message)
    {
        IsRejection = isRejection;
    }

    /// <summary>
    /// <c>true</c>: the handler refused this operation (<see cref="OperationRejected"/>); the resource is unchanged by it and the
    /// rest of its batch was saved. <c>false</c>: the batch failed or the operation was not run (<see cref="OperationFailed"/>).
    /// </summary>
    public bool IsRejection { get; }

    /// <summary>With <see cref="ErrorCode.Saturated"/> from the entity's or the node's bounded queue: which bound and how full; otherwise <c>null</c>.</summary>
    public Queues.QueueSaturated? Saturation { get; init; }
}
