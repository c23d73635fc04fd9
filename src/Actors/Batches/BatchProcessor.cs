using System.Diagnostics;
using Akka.Actor;
using Akka.Streams;
using Akka.Streams.Dsl;

namespace Akka.WriteBehind.Batches;

/// <summary>
/// The callers' facade of one batch resource type on one node (the Go library's <c>Processor</c>, cluster-wide): runs
/// operations on resources by key, each in the key's batch on whichever node owns the key. Get it from
/// <see cref="WriteBehindBatches.StartAsync{TResource}(ActorSystem, string, IResourceStore{TResource}, OperationHandler{TResource})"/>
/// or <see cref="WriteBehindBatches.Processor{TResource}(ActorSystem)"/>. Thread-safe.
/// </summary>
/// <typeparam name="TResource">The resource type.</typeparam>
public sealed class BatchProcessor<TResource> where TResource : notnull
{
    private readonly ActorSystem _system;
    private readonly CoordinatedShutdown _shutdown;
    private int _inFlight;

    internal BatchProcessor(ActorSystem system, IActorRef shardRegion, BatchSettings settings)
    {
        _system = system;
        _shutdown = CoordinatedShutdown.Get(system);
        ShardRegion = shardRegion;
        Settings = settings;
        _callOwner = new BatchCallOwner(settings.TypeName, ExitInFlight);
    }

    private readonly BatchCallOwner _callOwner;

    /// <summary>The resource type's shard region (also registered as <see cref="BatchRegion{TResource}"/> by Akka.Hosting).
    /// Messages sent here directly bypass the key check, the shutdown check and <c>max-in-flight</c>.</summary>
    public IActorRef ShardRegion { get; }

    /// <summary>The settings in force.</summary>
    public BatchSettings Settings { get; }

    /// <summary>INTERNAL API: this node's queue bookkeeping of the type (depth, size, peaks, saturations).</summary>
    internal Queues.QueueLedger Queues { get; init; } = null!;

    /// <summary>INTERNAL API: the request ids this node's entities of the type remember.</summary>
    internal RequestLedger Requests { get; init; } = null!;

    /// <summary>
    /// Runs <paramref name="operation"/> on the resource <paramref name="key"/> once per <paramref name="requestId"/>, with the
    /// deadline <c>operation-timeout</c>; see <see cref="RunAsync{TResult}(string, IBatchOperation{TResult}, string, TimeSpan, CancellationToken)"/>.
    /// </summary>
    /// <param name="key">The resource's key.</param>
    /// <param name="operation">The operation.</param>
    /// <param name="requestId">The caller's request id (<see cref="RequestIds"/>); <c>null</c>: none.</param>
    /// <param name="cancellationToken">Cancels the operation if it has not run yet.</param>
    /// <typeparam name="TResult">The operation's result.</typeparam>
    public Task<TResult> RunAsync<TResult>(string key, IBatchOperation<TResult> operation, string? requestId, CancellationToken cancellationToken = default) =>
        RunAsync(key, operation, requestId, Settings.OperationTimeout, cancellationToken);

    /// <summary>
    /// Runs <paramref name="operation"/> on the resource <paramref name="key"/> with the deadline <c>operation-timeout</c>; see
    /// <see cref="RunAsync{TResult}(string, IBatchOperation{TResult}, TimeSpan, CancellationToken)"/>.
    /// </summary>
    /// <param name="key">The resource's key.</param>
    /// <param name="operation">The operation.</param>
    /// <param name="cancellationToken">Cancels the operation if it has not run yet.</param>
    /// <typeparam name="TResult">The operation's result.</typeparam>
    public Task<TResult> RunAsync<TResult>(string key, IBatchOperation<TResult> operation, CancellationToken cancellationToken = default) =>
        RunAsync(key, operation, Settings.OperationTimeout, cancellationToken);

    /// <summary>
    /// Runs <paramref name="operation"/> on the resource <paramref name="key"/> in the key's batch and returns once the batch is
    /// saved (the Go library's <c>Run</c>).
    /// </summary>
    /// <param name="key">The resource's key: non-empty, at most 256 UTF-8 bytes, no control characters.</param>
    /// <param name="operation">The operation (an immutable, serializable message).</param>
    /// <param name="timeout">How long the operation may wait for its turn: if it has not run by then it never will and the call
    /// fails with <see cref="ErrorCode.Cancelled"/>. Once run, the call waits for its batch's save (bounded by <c>max-duration</c>).</param>
    /// <param name="cancellationToken">Cancels the operation if it has not run yet (then <see cref="OperationCanceledException"/>);
    /// once it has run, the call still returns the batch's outcome, as the Go library's <c>Run</c> does.</param>
    /// <typeparam name="TResult">The operation's result.</typeparam>
    /// <returns>What the handler returned for the operation, once its batch is saved.</returns>
    /// <exception cref="BatchOperationException">The operation was rejected by the handler (<see cref="BatchOperationException.IsRejection"/>,
    /// the resource unchanged by it), its batch failed (<see cref="ErrorCode.StoreFailure"/>, <see cref="ErrorCode.Timeout"/>; nothing
    /// of the batch kept), or it was not run (<see cref="ErrorCode.InvalidKey"/>, <see cref="ErrorCode.Saturated"/>,
    /// <see cref="ErrorCode.ShuttingDown"/>, <see cref="ErrorCode.Cancelled"/>). <see cref="ErrorCode.Timeout"/> without a batch
    /// failure means no answer arrived in time: the outcome is unknown.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled before the operation ran.</exception>
    public Task<TResult> RunAsync<TResult>(string key, IBatchOperation<TResult> operation, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        RunAsync(key, operation, null, timeout, cancellationToken);

    /// <summary>
    /// Runs <paramref name="operation"/> on the resource <paramref name="key"/> as
    /// <see cref="RunAsync{TResult}(string, IBatchOperation{TResult}, TimeSpan, CancellationToken)"/> does, applied at most once
    /// per <paramref name="requestId"/>: a repeat of the id for this key within <c>idempotency.window</c> (default 10 minutes,
    /// counted from the first's save) is not applied again and returns the first call's result, also after a hand-off or the
    /// loss of the owning node when the store keeps request ids (<see cref="IIdempotentResourceStore{TResource}"/>). A
    /// repeat that arrives while the first is still in its batch gets the first's outcome with it. Only a first call that
    /// succeeded is remembered: after a rejection or a failure, a retry runs again.
    /// </summary>
    /// <param name="key">The resource's key: non-empty, at most 256 UTF-8 bytes, no control characters.</param>
    /// <param name="operation">The operation (an immutable, serializable message).</param>
    /// <param name="requestId">The caller's request id: 1 to 128 visible ASCII characters (<see cref="RequestIds"/>); <c>null</c>: none.</param>
    /// <param name="timeout">How long the operation may wait for its turn.</param>
    /// <param name="cancellationToken">Cancels the operation if it has not run yet.</param>
    /// <typeparam name="TResult">The operation's result.</typeparam>
    /// <returns>What the handler returned for the operation (or for the first call with this request id).</returns>
    /// <exception cref="BatchOperationException">As without a request id; also <see cref="ErrorCode.InvalidArgument"/> for an
    /// invalid request id (nothing is run), and <see cref="ErrorCode.Saturated"/> when the node remembers
    /// <c>idempotency.max-remembered</c> ids.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled before the operation ran.</exception>
    public Task<TResult> RunAsync<TResult>(string key, IBatchOperation<TResult> operation, string? requestId, TimeSpan timeout,
        CancellationToken cancellationToken = default)
    {
        // not an async method: the entity's reply completes the caller's task directly (BatchCall<TResult>), without a state
        // machine and a second continuation per operation; refusals still come as a faulted task, not thrown
        if (operation is null)
            return Task.FromException<TResult>(new ArgumentNullException(nameof(operation)));
        if (requestId is not null && !RequestIds.TryValidate(requestId, out var requestIdError))
            return Task.FromException<TResult>(new BatchOperationException(key ?? "", ErrorCode.InvalidArgument, requestIdError!, isRejection: false));
        if (timeout <= TimeSpan.Zero)
            return Task.FromException<TResult>(new ArgumentOutOfRangeException(nameof(timeout), timeout, "The timeout must be positive."));
        if (!KeyRules.TryValidate(key, out var keyError))
            return Task.FromException<TResult>(new BatchOperationException(key ?? "", ErrorCode.InvalidKey, keyError!, isRejection: false));
        if (cancellationToken.IsCancellationRequested)
            return Task.FromCanceled<TResult>(cancellationToken);
        if (Admission(key) is { } refused)
            return Task.FromException<TResult>(refused);

        BatchCall<TResult> call;
        try
        {
            var id = Ingest.NewOperationId();
            var answerWithin = timeout + Settings.MaxDuration + Settings.ReplyTimeoutMargin;
            var answerBy = Stopwatch.GetTimestamp() + (long)(answerWithin.TotalSeconds * Stopwatch.Frequency);
            var now = DateTime.UtcNow;
            call = new BatchCall<TResult>(new RunOperation(key, id, operation, now + timeout, requestId) { CalledAt = now }, answerBy,
                answerWithin, _callOwner, cancellationToken);
            call.Run.LocalCall = call;
            // no timer per call: the ingest actor's sweep answers Timeout ("no answer ... outcome unknown") once answerBy passed
            Ingest.Add(call);
        }
        catch
        {
            ExitInFlight();
            throw;
        }

        if (cancellationToken.CanBeCanceled)
            RegisterCancellation(call, cancellationToken);
        return call.Task;
    }

    // its own method: a lambda capturing call inside RunAsync would cost a closure on every call, cancellable or not
    private void RegisterCancellation<TResult>(BatchCall<TResult> call, CancellationToken cancellationToken) =>
        call.Registered(cancellationToken.Register(() => Cancel(call)));

    /// <summary>
    /// INTERNAL API: the checks every operation passes before it is sent (key, shutdown, <c>max-in-flight</c>). <c>null</c>: it
    /// may be sent, and holds one in-flight slot until <see cref="ExitInFlight"/>; otherwise why not (no slot held).
    /// </summary>
    internal BatchOperationException? Refusal(string key)
    {
        if (!KeyRules.TryValidate(key, out var keyError))
            return new BatchOperationException(key ?? "", ErrorCode.InvalidKey, keyError!, isRejection: false);
        return Admission(key);
    }

    /// <summary><see cref="Refusal"/> for a key already validated.</summary>
    private BatchOperationException? Admission(string key)
    {
        if (_shutdown.ShutdownReason is not null)
            return new BatchOperationException(key, ErrorCode.ShuttingDown, "the node is shutting down and takes no new operations", isRejection: false);
        if (Interlocked.Increment(ref _inFlight) > Settings.MaxInFlight)
        {
            Interlocked.Decrement(ref _inFlight);
            return new BatchOperationException(key, ErrorCode.Saturated,
                $"this node already has {Settings.MaxInFlight} {Settings.TypeName} operations waiting for their answers", isRejection: false);
        }

        return null;
    }

    /// <summary>INTERNAL API: tells the entities that someone reads <see cref="Metrics"/>.</summary>
    internal BatchMetricsTap MetricsTap { get; init; } = new();

    /// <summary>INTERNAL API: the node-local grouping stage the calls go through (no actor message per operation).</summary>
    internal BatchIngest Ingest { get; init; } = null!;

    /// <summary>INTERNAL API: the actor that sends <see cref="Ingest"/>'s calls and receives their replies.</summary>
    internal IActorRef IngestActor { get; init; } = ActorRefs.Nobody;

    // a call still waiting in its cell is taken back and answered at once; one already sent is cancelled at its entity, which
    // answers Cancelled unless the operation already ran (then the caller gets its batch's outcome)
    private void Cancel(BatchCall call)
    {
        if (Ingest.TryWithdraw(call))
            call.Answer(new OperationFailed(call.Run.Key, call.Run.OperationId, ErrorCode.Cancelled,
                "the operation was cancelled by its caller before it ran"));
        else
            IngestActor.Tell(new CancelBatchCall(call.Run.Key, call.Run.OperationId), ActorRefs.NoSender);
    }

    /// <summary>
    /// INTERNAL API: sends an operation admitted by <see cref="Refusal"/> through the grouping stage, its reply told to
    /// <paramref name="replyTo"/> (a call group, which keeps its own deadline).
    /// </summary>
    internal void Send(RunOperation run, IActorRef replyTo)
    {
        var answerWithin = run.Deadline - DateTime.UtcNow + Settings.MaxDuration + Settings.ReplyTimeoutMargin;
        var answerBy = Stopwatch.GetTimestamp() + (long)(Math.Max(0, answerWithin.TotalSeconds) * Stopwatch.Frequency);
        var call = new BatchCall(run, answerBy, answerWithin) { ReplyTo = replyTo };
        run.LocalCall = call;
        Ingest.Add(call);
    }

    /// <summary>INTERNAL API: the sender of <see cref="Send"/> gave up on the operation: not run if it has not run yet.</summary>
    internal void CancelSent(string key, Guid operationId)
    {
        // the stage's actor sends what waits first, so the cancellation follows the operation to its entity
        IngestActor.Tell(new CancelBatchCall(key, operationId), ActorRefs.NoSender);
    }

    /// <summary>INTERNAL API: an operation admitted by <see cref="Refusal"/> is answered or given up.</summary>
    internal void ExitInFlight() => Interlocked.Decrement(ref _inFlight);

    /// <summary>
    /// The metric records of the batches of this resource type that finish on this node from now on, as a stream. Each
    /// materialization is a separate subscription; a consumer slower than the batches loses the oldest records beyond
    /// <paramref name="bufferSize"/> (batches never wait for metric consumers). The stream completes when the actor system stops.
    /// </summary>
    /// <param name="bufferSize">Records buffered for a slow consumer. <b>Default</b>: 1,000.</param>
    public Source<BatchMetric, NotUsed> Metrics(int bufferSize = 1000)
    {
        var system = _system;
        var typeName = Settings.TypeName;
        var tap = MetricsTap;
        return Source.ActorRef<BatchMetric>(bufferSize, OverflowStrategy.DropHead)
            .MapMaterializedValue(subscriber =>
            {
                system.EventStream.Subscribe(subscriber, typeof(BatchMetric));
                tap.Opened();
                return NotUsed.Instance;
            })
            .Where(metric => metric.TypeName == typeName);
    }
}
