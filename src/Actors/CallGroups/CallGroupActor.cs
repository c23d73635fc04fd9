using Akka.Actor;
using Akka.WriteBehind.Internal;
using Akka.Event;
using Akka.WriteBehind.Queues;

namespace Akka.WriteBehind.CallGroups;

/// <summary>
/// INTERNAL API
/// <para>
/// The aggregator of one call group run: sends every operation with itself as sender (operations whose answers cannot be told
/// apart, e.g. two commands for one counter key, one after another), collects the answers by correlation token, and completes
/// exactly once — when the last is answered, at the deadline, or on <see cref="CancelCallGroup"/> — by completing the task or
/// telling <see cref="CallGroupCompleted{TId}"/>. After completing it stays at most <c>late-reply-grace</c> to swallow the
/// answers of operations it gave up on, then stops.
/// </para>
/// </summary>
internal sealed class CallGroupActor<TId> : UntypedActor, IWithTimers where TId : notnull
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly IReadOnlyList<(TId Id, IGroupOperation Operation)> _operations;
    private readonly TimeSpan _timeout;
    private readonly long _groupId;
    private readonly IActorRef? _replyTo;
    private readonly TaskCompletionSource<IReadOnlyDictionary<TId, Outcome>>? _completion;
    private readonly CallGroupSettings _settings;
    private readonly IEqualityComparer<TId> _comparer;
    private readonly Outcome?[] _outcomes;
    private readonly IGroupReplyReader[] _readers;
    private readonly Dictionary<object, int> _outstanding = new();       // correlation -> operation index (sent, unanswered)
    private readonly Dictionary<object, Queue<int>> _waiting = new();    // correlation -> operations waiting for it to be free
    private readonly HashSet<object> _abandoned = new();                 // given up at completion: their answers are swallowed
    private int _unsettled;
    private DateTime _deadline;

    public CallGroupActor(CallGroup<TId> group, TimeSpan timeout, long groupId, IActorRef? replyTo,
        TaskCompletionSource<IReadOnlyDictionary<TId, Outcome>>? completion, CallGroupSettings settings, IEqualityComparer<TId> comparer)
    {
        _operations = group.Operations;
        _timeout = timeout;
        _groupId = groupId;
        _replyTo = replyTo;
        _completion = completion;
        _settings = settings;
        _comparer = comparer;
        _outcomes = new Outcome?[_operations.Count];
        _unsettled = _operations.Count;
        _readers = _operations.Select(o => o.Operation.Replies).Distinct().ToArray();
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(CallGroup<TId> group, TimeSpan timeout, long groupId, IActorRef? replyTo,
        TaskCompletionSource<IReadOnlyDictionary<TId, Outcome>>? completion, CallGroupSettings settings) =>
        Akka.Actor.Props.Create(() => new CallGroupActor<TId>(group, timeout, groupId, replyTo, completion, settings, group.Comparer));

    // The behaviours are switch statements (UntypedActor), not ReceiveActor handler lists: an aggregator is created per call
    // group, and building its handler list per instance is avoidable work on that path (measured on counters).

    protected override void OnReceive(object message) => Collecting(message);

    /// <summary>Operations are out: answers settle them, the deadline or a cancel gives up on the rest.</summary>
    private void Collecting(object message)
    {
        switch (message)
        {
            case GroupDeadline:
                GiveUp(cancelled: false);
                break;
            case CancelCallGroup:
                GiveUp(cancelled: true);
                break;
            default:
                Answer(message); // passes what no reader recognises to Unhandled
                break;
        }
    }

    /// <summary>
    /// Completed, with operations given up on: their late answers are swallowed until the last one came or the grace ran out.
    /// A deadline or cancel that comes now has nothing left to give up on.
    /// </summary>
    private void Lingering(object message)
    {
        switch (message)
        {
            case GroupDeadline:
            case CancelCallGroup:
                break;
            case LingerOver:
                Context.Stop(Self);
                break;
            default:
                SwallowLateAnswer(message); // passes what no reader recognises to Unhandled
                break;
        }
    }

    protected override void PreStart()
    {
        _deadline = DateTime.UtcNow + _timeout;
        Timers.StartSingleTimer(GroupDeadline.Instance, GroupDeadline.Instance, _timeout);
        // the grouping stages are woken once all operations are in, so one key's operations reach its entity together
        using var signals = DeferredSignals.Open();
        for (var i = 0; i < _operations.Count; i++)
        {
            var correlation = _operations[i].Operation.NewCorrelation();
            if (_outstanding.ContainsKey(correlation))
            {
                if (!_waiting.TryGetValue(correlation, out var queue))
                    _waiting[correlation] = queue = new Queue<int>();
                queue.Enqueue(i);
            }
            else
            {
                SendOperation(i, correlation);
            }
        }

        CompleteIfSettled();
    }

    protected override void PostStop()
    {
        // stopped before completing (its parent stopped, the system terminates): the caller still gets one answer. Every
        // settled means delivered: the handler that settles the last operation delivers before it returns.
        if (_unsettled == 0)
            return;
        for (var i = 0; i < _outcomes.Length; i++)
            Settle(i, new Outcome.TimedOut("the call group's aggregator stopped before the operation was answered", Cancelled: true));
        foreach (var (correlation, index) in _outstanding)
            _operations[index].Operation.Finish(correlation, answered: false);
        Deliver();
    }

    private void SendOperation(int index, object correlation)
    {
        Outcome? refused;
        try
        {
            refused = _operations[index].Operation.Send(correlation, Self, _deadline);
        }
        catch (Exception e)
        {
            // a faulty operation kind: reported as that operation's outcome, the rest of the group goes on
            _log.Error(e, "Call group operation {0} on [{1}] threw when sent", _operations[index].Id, _operations[index].Operation.Key);
            refused = new Outcome.Failed(ErrorCode.InvalidArgument, $"the operation could not be sent: {e.GetType().Name}: {e.Message}");
        }

        if (refused is null)
        {
            _outstanding[correlation] = index;
            return;
        }

        Settle(index, refused);
        SendNext(correlation);
    }

    private void Answer(object message)
    {
        if (!TryRead(message, out var correlation, out var outcome))
        {
            Unhandled(message);
            return;
        }

        if (_outstanding.Remove(correlation, out var index))
        {
            _operations[index].Operation.Finish(correlation, answered: true);
            Settle(index, outcome);
            SendNext(correlation);
            CompleteIfSettled();
        }
        else
        {
            _log.Debug("Call group: ignored an answer no operation waits for: {0}", message);
        }
    }

    private void SwallowLateAnswer(object message)
    {
        if (!TryRead(message, out var correlation, out _))
        {
            Unhandled(message);
            return;
        }

        // a late answer of an operation given up at the deadline: ignored
        if (!_abandoned.Remove(correlation))
            _log.Debug("Call group: ignored an answer no operation waits for: {0}", message);
        else if (_abandoned.Count == 0)
            Context.Stop(Self);
    }

    private bool TryRead(object message, out object correlation, out Outcome outcome)
    {
        foreach (var reader in _readers)
        {
            if (reader.TryRead(message, out correlation, out outcome))
                return true;
        }

        correlation = null!;
        outcome = null!;
        return false;
    }

    private void SendNext(object correlation)
    {
        if (!_waiting.TryGetValue(correlation, out var queue))
            return;
        var next = queue.Dequeue();
        if (queue.Count == 0)
            _waiting.Remove(correlation);
        SendOperation(next, correlation);
    }

    private void Settle(int index, Outcome outcome)
    {
        if (_outcomes[index] is not null)
            return;
        _outcomes[index] = outcome;
        _unsettled--;
    }

    private void GiveUp(bool cancelled)
    {
        var message = cancelled
            ? "the call group was cancelled before the operation was answered"
            : $"no answer within the call group's deadline ({_timeout})";
        for (var i = 0; i < _outcomes.Length; i++)
            Settle(i, new Outcome.TimedOut(message, cancelled));
        foreach (var (correlation, index) in _outstanding)
        {
            _operations[index].Operation.Finish(correlation, answered: false);
            _abandoned.Add(correlation);
        }

        _outstanding.Clear();
        _waiting.Clear();
        CompleteIfSettled();
    }

    private void CompleteIfSettled()
    {
        if (_unsettled > 0)
            return;
        Timers.Cancel(GroupDeadline.Instance);
        if (_abandoned.Count == 0)
        {
            Deliver();
            Context.Stop(Self);
            return;
        }

        // the grace starts before the result goes out, so whoever holds the result knows the grace is already counting
        Become(Lingering);
        Timers.StartSingleTimer(LingerOver.Instance, LingerOver.Instance, _settings.LateReplyGrace);
        Deliver();
    }

    private void Deliver()
    {
        var outcomes = new Dictionary<TId, Outcome>(_operations.Count, _comparer);
        for (var i = 0; i < _operations.Count; i++)
            outcomes[_operations[i].Id] = _outcomes[i]!;
        var result = outcomes.AsReadOnly();
        _completion?.TrySetResult(result);
        _replyTo?.Tell(new CallGroupCompleted<TId>(_groupId, result));
    }

    private sealed class GroupDeadline
    {
        public static readonly GroupDeadline Instance = new();

        private GroupDeadline()
        {
        }
    }

    private sealed class LingerOver
    {
        public static readonly LingerOver Instance = new();

        private LingerOver()
        {
        }
    }
}
