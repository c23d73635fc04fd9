namespace Akka.WriteBehind.Batches;

/// <summary>
/// Applies operations to resources of one type, one operation at a time (the Go library's operation functions). Handlers must be
/// pure and fast: no I/O, no blocking, no shared mutable state; the resource is loaded before and saved after by the store.
/// Treat resources as immutable values (records): return a new resource for a change and leave the argument untouched, so a
/// rejected operation, or a failed batch, leaves nothing behind.
/// </summary>
/// <typeparam name="TResource">The resource type.</typeparam>
/// <example>
/// <code>
/// sealed class CartHandler : OperationHandler&lt;Cart&gt;
/// {
///     public override OperationOutcome&lt;Cart&gt; Apply(string key, Cart cart, IBatchOperation operation) => operation switch
///     {
///         AddItem when cart.Items.Count &gt;= 100 => Reject("a cart holds at most 100 items"),
///         AddItem add => Changed(cart with { Items = cart.Items.Add(add.Sku) }, new CartSize(cart.Items.Count + 1)),
///         GetCart => Unchanged(new CartSize(cart.Items.Count)),
///         _ => Reject($"unknown operation {operation.GetType().Name}", ErrorCode.InvalidArgument),
///     };
/// }
/// </code>
/// </example>
public abstract class OperationHandler<TResource> where TResource : notnull
{
    /// <summary>
    /// Applies <paramref name="operation"/> to <paramref name="resource"/>. An exception thrown here is a bug: it is logged and
    /// the operation is answered as rejected (<see cref="ErrorCode.Rejected"/>), leaving the resource unchanged.
    /// </summary>
    /// <param name="key">The resource's key.</param>
    /// <param name="resource">The resource as left by the batch's earlier operations.</param>
    /// <param name="operation">The operation.</param>
    /// <returns><see cref="Changed"/>, <see cref="Unchanged"/> or <see cref="Reject"/>.</returns>
    public abstract OperationOutcome<TResource> Apply(string key, TResource resource, IBatchOperation operation);

    /// <summary>The operation changed the resource to <paramref name="resource"/> and answers <paramref name="result"/>.</summary>
    /// <param name="resource">The new resource.</param>
    /// <param name="result">The operation's result (immutable, serializable).</param>
    protected static OperationOutcome<TResource> Changed(TResource resource, object? result) =>
        OperationOutcome<TResource>.Changed(resource, result);

    /// <summary>The operation read the resource without changing it and answers <paramref name="result"/>.</summary>
    /// <param name="result">The operation's result (immutable, serializable).</param>
    protected static OperationOutcome<TResource> Unchanged(object? result) => OperationOutcome<TResource>.Unchanged(result);

    /// <summary>The operation is refused; the resource is left as it was.</summary>
    /// <param name="message">Why, for people.</param>
    /// <param name="code">Why, as a code. <b>Default</b>: <see cref="ErrorCode.Rejected"/>.</param>
    protected static OperationOutcome<TResource> Reject(string message, ErrorCode code = ErrorCode.Rejected) =>
        OperationOutcome<TResource>.Rejected(message, code);
}

/// <summary>
/// What an <see cref="OperationHandler{TResource}"/> made of one operation. A value, not an object: one is made per operation,
/// and the batch keeps it until it answers. The <c>default</c> value is not an outcome; a batch refuses the operation it
/// came from.
/// </summary>
/// <typeparam name="TResource">The resource type.</typeparam>
public readonly struct OperationOutcome<TResource> where TResource : notnull
{
    private OperationOutcome(bool accepted, bool changed, TResource? resource, object? result, ErrorCode code, string? message)
    {
        IsAccepted = accepted;
        IsChanged = changed;
        Resource = resource;
        Result = result;
        Code = code;
        Message = message;
    }

    /// <summary>The operation ran (it changed the resource or only read it).</summary>
    public bool IsAccepted { get; }

    /// <summary>The operation changed the resource: the batch must be saved.</summary>
    public bool IsChanged { get; }

    /// <summary>The new resource when <see cref="IsChanged"/>; otherwise <c>default</c>.</summary>
    public TResource? Resource { get; }

    /// <summary>The operation's result when <see cref="IsAccepted"/>.</summary>
    public object? Result { get; }

    /// <summary>The rejection's code when not <see cref="IsAccepted"/>.</summary>
    public ErrorCode Code { get; }

    /// <summary>The rejection's message when not <see cref="IsAccepted"/>.</summary>
    public string? Message { get; }

    /// <summary>The operation changed the resource to <paramref name="resource"/> and answers <paramref name="result"/>.</summary>
    /// <param name="resource">The new resource.</param>
    /// <param name="result">The operation's result (immutable, serializable).</param>
    public static OperationOutcome<TResource> Changed(TResource resource, object? result)
    {
        ArgumentNullException.ThrowIfNull(resource);
        return new(true, true, resource, result, default, null);
    }

    /// <summary>The operation read the resource without changing it and answers <paramref name="result"/>.</summary>
    /// <param name="result">The operation's result (immutable, serializable).</param>
    public static OperationOutcome<TResource> Unchanged(object? result) => new(true, false, default, result, default, null);

    /// <summary>The operation is refused; the resource is left as it was.</summary>
    /// <param name="message">Why, for people.</param>
    /// <param name="code">Why, as a code. <b>Default</b>: <see cref="ErrorCode.Rejected"/>.</param>
    public static OperationOutcome<TResource> Rejected(string message, ErrorCode code = ErrorCode.Rejected) =>
        new(false, false, default, null, code, message ?? "rejected");
}
