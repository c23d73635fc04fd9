using System.Collections.Concurrent;
using Akka.Actor;
using Akka.WriteBehind.Internal;

namespace Akka.WriteBehind.Batches;

/// <summary>
/// INTERNAL API
/// <para>
/// The node-local grouping stage of a batch resource type (the counters' fast path idea): <see cref="BatchProcessor{TResource}"/>
/// puts each call on one lock-free queue (no actor message, no lock and no per-key lookup on the caller's thread), and the
/// first call after a drain wakes <see cref="BatchIngestActor"/>. The drainer takes the queued calls into its keys' cells and
/// sends each key's calls, in arrival order, as one message to the key's entity; calls that arrive while it is busy join
/// their key's next group, so groups grow with load. Cells belong to the drainer alone: a drained cell stays for its key's
/// next calls, and <see cref="RetireIdleCells"/> retires the cells that stayed empty. (Cells the callers shared, found in
/// a concurrent dictionary and locked per call, were a tenth of an operation's CPU at 10,000 keys.)
/// </para>
/// <para>A cell also holds its key's direct route (<see cref="TryOpenRoute"/>): the key's entity in this process, which the
/// drainer then tells without the shard region's and the shard's hops.</para>
/// </summary>
internal sealed class BatchIngest
{
    private readonly ConcurrentQueue<BatchCall> _incoming = new();
    // the drainer's alone, as everything below but the queue and the ids
    private readonly Dictionary<string, Cell> _cells = new(StringComparer.Ordinal);
    private readonly List<Cell> _ready = new();
    private int _drainScheduled;

    // operation ids: a random 64-bit prefix per stage and a counter. Guid.NewGuid reads the OS's random source every time,
    // which was ~6% of the batches scenario's CPU (perf); ids only need to be unique, not unpredictable.
    private readonly long _idPrefix = BitConverter.ToInt64(Guid.NewGuid().ToByteArray());
    private long _idCounter;

    /// <summary>
    /// The number of <paramref name="operationId"/> when this stage made it (<see cref="NewOperationId"/>): the ids of one
    /// stage differ only there, so its calls can be found by a 64-bit number instead of a 128-bit id.
    /// </summary>
    public bool TryNumberOf(Guid operationId, out long number)
    {
        Span<byte> bytes = stackalloc byte[16];
        operationId.TryWriteBytes(bytes);
        number = BitConverter.ToInt64(bytes[8..]);
        return BitConverter.ToInt64(bytes) == _idPrefix;
    }

    /// <summary>A new operation id, unique across stages and nodes (a random prefix of 64 bits per stage).</summary>
    public Guid NewOperationId()
    {
        Span<byte> bytes = stackalloc byte[16];
        BitConverter.TryWriteBytes(bytes, _idPrefix);
        BitConverter.TryWriteBytes(bytes[8..], Interlocked.Increment(ref _idCounter));
        return new Guid(bytes);
    }

    /// <summary>The actor told <see cref="DrainBatchCalls"/> when calls are queued; set once before the first call.</summary>
    public IActorRef Drainer { get; set; } = ActorRefs.Nobody;

    private readonly Action _wakeDrainer;

    public BatchIngest() => _wakeDrainer = () => Drainer.Tell(DrainBatchCalls.Instance, ActorRefs.NoSender);

    /// <summary>Calls not yet taken by the drainer (a withdrawn one counts until then), for tests.</summary>
    public int Waiting => _incoming.Count;

    /// <summary>Adds <paramref name="call"/> behind the calls waiting to be sent (its key's among them).</summary>
    public void Add(BatchCall call)
    {
        _incoming.Enqueue(call);
        // read first: while a drain is scheduled the callers only read the flag, and no cache line moves between them
        if (Volatile.Read(ref _drainScheduled) == 0 && Interlocked.Exchange(ref _drainScheduled, 1) == 0)
            DeferredSignals.Signal(_wakeDrainer); // a call group's turn wakes the drainer after its last call
    }

    /// <summary>Takes <paramref name="call"/> back if the drainer has not taken it yet (its caller cancelled): true when it was still waiting.</summary>
    public bool TryWithdraw(BatchCall call) => call.TryWithdraw();

    /// <summary>The drainer's side: hands every ready key's waiting calls, in arrival order, to <paramref name="send"/>.</summary>
    public void DrainReady(Action<string, BatchCall[]> send) => DrainReadyShared((cell, calls) => send(cell.Key, calls.ToArray()));

    /// <summary>
    /// <see cref="DrainReady(Action{string, BatchCall[]})"/> without an array per key: <paramref name="send"/> gets the key's
    /// cell (for its route) and a list that is reused for the key's next calls, so it must not keep it.
    /// </summary>
    public void DrainReadyShared(Action<Cell, List<BatchCall>> send)
    {
        // cleared first, with a full fence before the queue is read: a call added from here on schedules another drain
        Interlocked.Exchange(ref _drainScheduled, 0);
        while (_incoming.TryDequeue(out var call))
        {
            if (!call.TryTake())
                continue; // withdrawn by its caller
            var key = call.Run.Key;
            if (!_cells.TryGetValue(key, out var cell))
                _cells.Add(key, cell = new Cell(key));
            if (cell.Calls.Count == 0)
                _ready.Add(cell);
            cell.Calls.Add(call);
            cell.WasIdle = false;
        }

        foreach (var cell in _ready)
        {
            send(cell, cell.Calls);
            cell.Calls.Clear();
        }

        _ready.Clear();
    }

    /// <summary>
    /// The drainer's periodic sweep: retires the cells that were empty at the last call of this and got no call since, so
    /// cells live only for keys with calls in the last two sweeps.
    /// </summary>
    public void RetireIdleCells()
    {
        foreach (var (key, cell) in _cells)
        {
            if (!cell.WasIdle)
                cell.WasIdle = true;
            else
                _cells.Remove(key); // allowed while enumerating a Dictionary since .NET Core 3.0
        }
    }

    /// <summary>Cells held, for tests.</summary>
    public int Cells => _cells.Count;

    /// <summary>
    /// The drainer's side: <paramref name="entity"/> took the calls of <paramref name="key"/> that the drainer's send number
    /// <paramref name="regionSend"/> carried through the shard region. When that was the key's last send through the region,
    /// every call sent that way has reached the entity, so calls told to it directly from now on cannot overtake one: the key's
    /// calls go to it directly until <see cref="CloseRoute"/>. False when a later send is still on its way (the entity offers
    /// again when that one arrives) or the key's cell was retired.
    /// </summary>
    public bool TryOpenRoute(string key, long regionSend, IActorRef entity)
    {
        if (!_cells.TryGetValue(key, out var cell) || cell.LastRegionSend != regionSend)
            return false;
        cell.Route = entity;
        return true;
    }

    /// <summary>
    /// The drainer's side: the key's calls go through the shard region again, unless the route leads to another entity. A
    /// call told to <paramref name="entity"/> before this is in its mailbox already, so one sent through the region after it
    /// arrives behind it.
    /// </summary>
    public void CloseRoute(string key, IActorRef entity)
    {
        if (_cells.TryGetValue(key, out var cell) && Equals(cell.Route, entity))
            cell.Route = null;
    }

    /// <summary>The direct route of <paramref name="key"/>, if open (the drainer's side; for tests).</summary>
    public IActorRef? RouteOf(string key) => _cells.TryGetValue(key, out var cell) ? cell.Route : null;

    /// <summary>INTERNAL API: the drainer's cell of one key: its calls taken from the queue, and its route to the key's entity.</summary>
    internal sealed class Cell(string key)
    {
        /// <summary>Empty at the last <see cref="RetireIdleCells"/> and no call since.</summary>
        public bool WasIdle { get; set; }

        public string Key { get; } = key;

        public List<BatchCall> Calls { get; } = new(4);

        /// <summary>The key's entity in this process, told the key's calls directly; null: through the shard region.</summary>
        public IActorRef? Route { get; set; }

        /// <summary>The number of the drainer's last send of this key's calls through the shard region.</summary>
        public long LastRegionSend { get; set; }
    }
}

/// <summary>
/// INTERNAL API: one operation waiting in the grouping stage or for its reply. This base answers <see cref="ReplyTo"/> (a call
/// group, which keeps its own deadline); a <see cref="BatchProcessor{TResource}.RunAsync{TResult}(string, IBatchOperation{TResult}, TimeSpan, CancellationToken)"/>
/// call is a <see cref="BatchCall{TResult}"/>.
/// </summary>
internal class BatchCall(RunOperation run, long answerBy, TimeSpan answerWithin)
{
    public RunOperation Run { get; } = run;

    /// <summary>When the caller stops waiting, as a <see cref="System.Diagnostics.Stopwatch"/> timestamp.</summary>
    public long AnswerBy { get; } = answerBy;

    /// <summary>How long the caller waits, for the timeout's message.</summary>
    public TimeSpan AnswerWithin { get; } = answerWithin;

    /// <summary>
    /// Set by the drainer before it sends the call: the number of its send through the shard region that carries it (an
    /// entity in this process offers a direct route with it), or <see cref="ToldDirectly"/>. Read by the entity after the
    /// message arrived.
    /// </summary>
    public long RegionSend { get; set; }

    /// <summary>The <see cref="RegionSend"/> of a call told to its entity directly, not through the shard region.</summary>
    public const long ToldDirectly = -1;

    /// <summary>The call was told to its entity directly, not through the shard region.</summary>
    public bool SentDirect => RegionSend == ToldDirectly;

    /// <summary>An actor that takes the reply instead of a task (a call group); it times out on its own.</summary>
    public IActorRef? ReplyTo { get; init; }

    private int _answered;
    private int _state; // Waiting, then Taken by the drainer or Withdrawn by the caller: whichever comes first
    private const int Waiting = 0, Taken = 1, Withdrawn = 2;

    /// <summary>The drainer takes the call to send it: false when its caller withdrew it first.</summary>
    public bool TryTake() => Interlocked.CompareExchange(ref _state, Taken, Waiting) == Waiting;

    /// <summary>The caller takes the call back: false when the drainer took it first (then its entity must cancel it).</summary>
    public bool TryWithdraw() => Interlocked.CompareExchange(ref _state, Withdrawn, Waiting) == Waiting;

    /// <summary>Whether the caller had its answer (the grouping stage then forgets the call).</summary>
    public bool IsAnswered => Volatile.Read(ref _answered) != 0;

    /// <summary>
    /// Gives the caller <paramref name="reply"/> unless it had its answer already (then false). Thread-safe: an entity of the
    /// same node answers from its own thread, the grouping stage's actor answers replies that came by message and timeouts.
    /// </summary>
    public bool Answer(IOperationReply reply)
    {
        if (Interlocked.Exchange(ref _answered, 1) != 0)
            return false;
        Deliver(reply);
        return true;
    }

    /// <summary>
    /// Gives the caller the operation's result, as <see cref="Answer"/> does with <see cref="OperationSucceeded"/>: the entity
    /// of the same node answers a success this way, without a reply object per operation.
    /// </summary>
    public bool Succeed(object? result)
    {
        if (Interlocked.Exchange(ref _answered, 1) != 0)
            return false;
        DeliverResult(result);
        return true;
    }

    /// <summary>Hands the first answer to whoever waits for it.</summary>
    protected virtual void Deliver(IOperationReply reply) => ReplyTo?.Tell(reply);

    /// <summary>Hands a success, the first answer, to whoever waits for it.</summary>
    protected virtual void DeliverResult(object? result) => ReplyTo?.Tell(new OperationSucceeded(Run.Key, Run.OperationId, result));
}

/// <summary>
/// INTERNAL API: a <c>RunAsync</c> call. The first answer turns the reply into the caller's result or exception and gives the
/// processor's in-flight slot back; the caller's continuation runs on the thread pool, never on the answering actor's thread.
/// </summary>
internal sealed class BatchCall<TResult>(RunOperation run, long answerBy, TimeSpan answerWithin, BatchCallOwner owner,
    CancellationToken cancellationToken) : BatchCall(run, answerBy, answerWithin)
{
    private readonly TaskCompletionSource<TResult> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    // a call is made per operation: what only cancellable calls need sits in an object of its own
    private readonly Cancellation? _cancellation = cancellationToken.CanBeCanceled ? new Cancellation(cancellationToken) : null;

    public Task<TResult> Task => _completion.Task;

    /// <summary>The caller's token registration, released at the answer (also when the answer came first).</summary>
    public void Registered(CancellationTokenRegistration registration)
    {
        _cancellation!.Registration = registration;
        Interlocked.MemoryBarrier();
        if (IsAnswered)
            registration.Unregister();
    }

    protected override void DeliverResult(object? result)
    {
        Release();
        Complete(result);
    }

    protected override void Deliver(IOperationReply reply)
    {
        Release();
        switch (reply)
        {
            case OperationSucceeded succeeded:
                Complete(succeeded.Result);
                break;
            case OperationFailed { Code: ErrorCode.Cancelled } when _cancellation is { Token.IsCancellationRequested: true }:
                _completion.TrySetCanceled(_cancellation.Token);
                break;
            case OperationFailed failed:
                _completion.TrySetException(new BatchOperationException(failed.Key, failed.Code, failed.Message, isRejection: false)
                {
                    Saturation = failed.Saturation,
                });
                break;
            case OperationRejected rejected:
                _completion.TrySetException(new BatchOperationException(rejected.Key, rejected.Code, rejected.Message, isRejection: true));
                break;
            default:
                _completion.TrySetException(new InvalidOperationException($"Unexpected reply {reply.GetType().Name} to an operation on [{Run.Key}]."));
                break;
        }
    }

    private void Release()
    {
        // Unregister, not Dispose: Dispose waits for a callback running on another thread, and this runs on an actor's
        _cancellation?.Registration.Unregister();
        owner.ExitInFlight();
    }

    private void Complete(object? result)
    {
        switch (result)
        {
            case TResult typed:
                _completion.TrySetResult(typed);
                break;
            case null when default(TResult) is null:
                _completion.TrySetResult(default!);
                break;
            default:
                _completion.TrySetException(new InvalidOperationException(
                    $"The handler of {owner.TypeName} answered {Run.Operation.GetType().Name} with {result?.GetType().Name ?? "null"}, not {typeof(TResult).Name}."));
                break;
        }
    }
}

/// <summary>INTERNAL API: what the calls of one processor share: its type name and its in-flight count.</summary>
internal sealed class BatchCallOwner(string typeName, Action exitInFlight)
{
    public string TypeName { get; } = typeName;

    public void ExitInFlight() => exitInFlight();
}

/// <summary>INTERNAL API: a cancellable call's token and its registration.</summary>
internal sealed class Cancellation(CancellationToken token)
{
    public CancellationToken Token { get; } = token;

    public CancellationTokenRegistration Registration { get; set; }
}

/// <summary>INTERNAL API: time to answer the calls whose callers stopped waiting. Node-local.</summary>
internal sealed class SweepBatchCalls : INoSerializationVerificationNeeded
{
    public static readonly SweepBatchCalls Instance = new();

    private SweepBatchCalls()
    {
    }
}

/// <summary>INTERNAL API: cells are ready to be sent. Node-local.</summary>
internal sealed class DrainBatchCalls : INoSerializationVerificationNeeded
{
    public static readonly DrainBatchCalls Instance = new();

    private DrainBatchCalls()
    {
    }
}

/// <summary>INTERNAL API: the caller of an operation already sent cancelled it: pass the cancellation to the entity. Node-local.</summary>
internal sealed record CancelBatchCall(string Key, Guid OperationId) : INoSerializationVerificationNeeded;

/// <summary>
/// INTERNAL API: an entity in this process took calls of <paramref name="Key"/> that the grouping stage's send number
/// <paramref name="RegionSend"/> carried through the shard region, and offers to take the key's calls directly. Node-local.
/// </summary>
internal sealed record OfferRoute(string Key, long RegionSend, IActorRef Entity) : INoSerializationVerificationNeeded;

/// <summary>
/// INTERNAL API: a stopping entity asks the grouping stage to send its key's calls through the shard region again; the
/// stage answers <see cref="RouteClosed"/>, behind every call it told the entity directly. Node-local.
/// </summary>
internal sealed record CloseRoute(string Key, IActorRef Entity, long CloseId) : INoSerializationVerificationNeeded;

/// <summary>INTERNAL API: the grouping stage's answer to <see cref="CloseRoute"/>: no call comes directly any more. Node-local.</summary>
internal sealed record RouteClosed(long CloseId) : INoSerializationVerificationNeeded;

/// <summary>INTERNAL API: an entity stopped or restarted without closing its route (a crash): the stage forgets it. Node-local.</summary>
internal sealed record ForgetRoute(string Key, IActorRef Entity) : INoSerializationVerificationNeeded;
