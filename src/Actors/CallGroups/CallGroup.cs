using System.Collections.Immutable;
using Akka.Actor;
using Akka.WriteBehind.Batches;
using Akka.WriteBehind.Counters;
using Akka.WriteBehind.Queues;

namespace Akka.WriteBehind.CallGroups;

/// <summary>
/// A fan-out/fan-in call (the lytics/inflight <c>CallGroup</c>): operations on many keys, each under the caller's id, run
/// together; the group completes <b>once</b> with one <see cref="Outcome"/> per id when the last operation is answered or the
/// group's deadline passes (unanswered ones are <see cref="Outcome.TimedOut"/>; their answers are ignored when they come).
/// <para>
/// Immutable: <see cref="Add"/> returns a new group, and a group is run as built, so nothing can be added to a running or
/// completed group. Ids are unique (a duplicate throws <see cref="DuplicateOperationIdException"/> before anything is sent).
/// Run it from C# with <see cref="RunAsync"/>, or from an actor with <see cref="Start"/> (the result is told as
/// <see cref="CallGroupCompleted{TId}"/>). Each run is a short-lived aggregator actor that sends the operations, collects
/// the answers and stops itself.
/// </para>
/// </summary>
/// <typeparam name="TId">The caller's operation id type (e.g. the index of an item in a request).</typeparam>
public sealed class CallGroup<TId> where TId : notnull
{
    private static readonly ImmutableDictionary<TId, int> NoIds = ImmutableDictionary<TId, int>.Empty;

    private readonly ImmutableList<(TId Id, IGroupOperation Operation)> _operations;
    private readonly ImmutableDictionary<TId, int> _ids;

    private CallGroup(ImmutableList<(TId, IGroupOperation)> operations, ImmutableDictionary<TId, int> ids)
    {
        _operations = operations;
        _ids = ids;
    }

    /// <summary>An empty group whose ids compare with <paramref name="comparer"/> (<b>Default</b>: the type's equality).</summary>
    /// <param name="comparer">The ids' equality.</param>
    public static CallGroup<TId> Create(IEqualityComparer<TId>? comparer = null) =>
        new(ImmutableList<(TId, IGroupOperation)>.Empty, NoIds.WithComparers(comparer));

    /// <summary>The group of <paramref name="operations"/>, in order.</summary>
    /// <param name="operations">Id and operation pairs.</param>
    /// <param name="comparer">The ids' equality.</param>
    /// <exception cref="DuplicateOperationIdException">An id occurs twice.</exception>
    public static CallGroup<TId> Of(IEnumerable<KeyValuePair<TId, IGroupOperation>> operations, IEqualityComparer<TId>? comparer = null)
    {
        var ops = ImmutableList.CreateBuilder<(TId, IGroupOperation)>();
        var ids = NoIds.WithComparers(comparer).ToBuilder();
        foreach (var (id, operation) in operations)
        {
            ArgumentNullException.ThrowIfNull(operation);
            if (!ids.TryAdd(id, ops.Count))
                throw new DuplicateOperationIdException(id);
            ops.Add((id, operation));
        }

        return new CallGroup<TId>(ops.ToImmutable(), ids.ToImmutable());
    }

    /// <summary>The ids' equality.</summary>
    public IEqualityComparer<TId> Comparer => _ids.KeyComparer;

    /// <summary>Number of operations.</summary>
    public int Count => _operations.Count;

    /// <summary>The operations in the order they are sent.</summary>
    public IReadOnlyList<(TId Id, IGroupOperation Operation)> Operations => _operations;

    /// <summary>A group with <paramref name="operation"/> added under <paramref name="id"/> (this group is unchanged).</summary>
    /// <param name="id">The caller's id of the operation; unique in the group.</param>
    /// <param name="operation">The operation.</param>
    /// <exception cref="DuplicateOperationIdException"><paramref name="id"/> is already in the group.</exception>
    public CallGroup<TId> Add(TId id, IGroupOperation operation)
    {
        ArgumentNullException.ThrowIfNull(operation);
        if (_ids.ContainsKey(id))
            throw new DuplicateOperationIdException(id);
        return new CallGroup<TId>(_operations.Add((id, operation)), _ids.Add(id, _operations.Count));
    }

    /// <summary>Adds a counter command sent to the counters' entry point <paramref name="counters"/> (<see cref="CounterGroupOperation"/>).</summary>
    /// <param name="id">The caller's id.</param>
    /// <param name="counters">The counters' entry point (<see cref="CounterRegion"/>).</param>
    /// <param name="command">The command.</param>
    public CallGroup<TId> AddCounter(TId id, IActorRef counters, ICounterCommand command) =>
        Add(id, new CounterGroupOperation(counters, command));

    /// <summary>Adds a batch operation (<see cref="BatchGroupOperation{TResource}"/>).</summary>
    /// <param name="id">The caller's id.</param>
    /// <param name="processor">The resource type's processor.</param>
    /// <param name="key">The resource's key.</param>
    /// <param name="operation">The operation.</param>
    /// <param name="requestId">Optional: the caller's request id (<see cref="RequestIds"/>): a repeat within the type's
    /// idempotency window is answered with the first answer and not applied again; an invalid one is its operation's
    /// <see cref="ErrorCode.InvalidArgument"/> outcome, as for a counter command.</param>
    /// <typeparam name="TResource">The resource type.</typeparam>
    public CallGroup<TId> AddBatch<TResource>(TId id, BatchProcessor<TResource> processor, string key, IBatchOperation operation,
        string? requestId = null)
        where TResource : notnull =>
        Add(id, new BatchGroupOperation<TResource>(processor, key, operation, requestId));

    /// <summary>
    /// Runs the group and returns its outcomes once: when every operation is answered, or at <paramref name="timeout"/> with
    /// the unanswered ones <see cref="Outcome.TimedOut"/>. Cancelling <paramref name="cancellationToken"/> completes it at once
    /// the same way (with <see cref="Outcome.TimedOut.Cancelled"/> set). Never throws for an operation's failure: every
    /// failure is an outcome.
    /// </summary>
    /// <param name="system">The actor system the aggregator runs on.</param>
    /// <param name="timeout">The group's deadline, from now.</param>
    /// <param name="cancellationToken">Gives up on the unanswered operations.</param>
    /// <returns>One outcome per id.</returns>
    public Task<IReadOnlyDictionary<TId, Outcome>> RunAsync(ActorSystem system, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(system);
        CheckTimeout(timeout);
        var completion = new TaskCompletionSource<IReadOnlyDictionary<TId, Outcome>>(TaskCreationOptions.RunContinuationsAsynchronously);
        var aggregator = system.ActorOf(CallGroupActor<TId>.Props(this, timeout, 0, null, completion, CallGroupSettings.Get(system)));
        if (cancellationToken.CanBeCanceled)
        {
            var registration = cancellationToken.Register(() => aggregator.Tell(CancelCallGroup.Instance, ActorRefs.NoSender));
            completion.Task.ContinueWith(_ => registration.Dispose(), TaskScheduler.Default);
        }

        return completion.Task;
    }

    /// <summary>
    /// Runs the group from an actor: the aggregator is created by <paramref name="factory"/> (pass <c>Context</c> to make it a
    /// child that dies with the caller) and tells <see cref="CallGroupCompleted{TId}"/> to <paramref name="replyTo"/> once.
    /// </summary>
    /// <param name="factory">Where the aggregator is created: an actor's <c>Context</c> or the actor system.</param>
    /// <param name="system">The actor system (for the settings).</param>
    /// <param name="timeout">The group's deadline, from now.</param>
    /// <param name="replyTo">Gets the result.</param>
    /// <param name="groupId">Returned in the result, to tell several groups apart.</param>
    /// <returns>The aggregator; tell it <see cref="CancelCallGroup.Instance"/> to give up on the unanswered operations.</returns>
    public IActorRef Start(IActorRefFactory factory, ActorSystem system, TimeSpan timeout, IActorRef replyTo, long groupId = 0)
    {
        ArgumentNullException.ThrowIfNull(factory);
        ArgumentNullException.ThrowIfNull(replyTo);
        CheckTimeout(timeout);
        return factory.ActorOf(CallGroupActor<TId>.Props(this, timeout, groupId, replyTo, null, CallGroupSettings.Get(system)));
    }

    private static void CheckTimeout(TimeSpan timeout)
    {
        if (timeout <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "The group's timeout must be positive.");
    }
}

/// <summary>Tell it to a running call group's aggregator: the unanswered operations become <see cref="Outcome.TimedOut"/> (cancelled) and the group completes.</summary>
public sealed class CancelCallGroup
{
    /// <summary>The message.</summary>
    public static readonly CancelCallGroup Instance = new();

    private CancelCallGroup()
    {
    }
}
