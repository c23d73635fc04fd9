using System.Diagnostics;
using Akka.Actor;

namespace Akka.WriteBehind.Batches;

/// <summary>
/// INTERNAL API
/// <para>
/// The node-local sender of a batch resource type's calls (<see cref="BatchIngest"/>): on <see cref="DrainBatchCalls"/> it sends
/// each ready key's calls to the shard region as one <see cref="RunOperations"/> (one <see cref="RunOperation"/> when alone).
/// An entity in this process answers the calls themselves (<see cref="RunOperation.LocalCall"/>); one on another node answers
/// this actor, which completes each call with its reply. Cancellations of calls already sent go to the entity after the
/// calls, through the region (never before them: a call told directly is in the entity's mailbox already). No Ask, no
/// temporary actor and no timer per operation: a periodic sweep answers the calls whose callers' wait ran out with
/// <see cref="ErrorCode.Timeout"/>.
/// </para>
/// <para>
/// A key whose entity lives in this process gets its calls without the region's and the shard's hops (about a sixth of an
/// operation's CPU at 10,000 keys). The entity offers the route (<see cref="OfferRoute"/>) when it took this actor's
/// last send of the key through the region, so a direct call cannot overtake one still on that way. A stopping entity
/// closes it (<see cref="CloseRoute"/>) and stops only after the answer, taking the calls told to it directly until then:
/// the key's next calls go through the region, which holds them while the entity passivates or is handed off.
/// </para>
/// </summary>
internal sealed class BatchIngestActor : UntypedActor, IWithTimers
{
    private readonly BatchIngest _ingest;
    private readonly IActorRef _region;
    // by the number of the operation id (BatchIngest.TryNumberOf): a 64-bit key hashed and compared for less than a Guid
    private readonly Dictionary<long, BatchCall> _sent = new();
    private readonly Action<BatchIngest.Cell, List<BatchCall>> _send;
    private long _regionSends; // numbers this actor's sends through the region (the entities' route offers name one)
    private readonly TimeSpan _sweepInterval;
    private readonly List<BatchCall> _expired = new();
    private const int MinPurgeAt = 4096;
    private int _purgeAt = MinPurgeAt;

    public BatchIngestActor(BatchIngest ingest, IActorRef region, TimeSpan sweepInterval)
    {
        _ingest = ingest;
        _region = region;
        _sweepInterval = sweepInterval;
        _send = Send;
    }

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>Calls sent and not yet forgotten (for tests).</summary>
    internal int Tracked => _sent.Count;

    /// <param name="ingest">The grouping stage.</param>
    /// <param name="region">The type's shard region.</param>
    /// <param name="sweepInterval">How often calls past their callers' wait are answered (a timeout fires up to this late).</param>
    public static Props Props(BatchIngest ingest, IActorRef region, TimeSpan sweepInterval) =>
        Akka.Actor.Props.Create(() => new BatchIngestActor(ingest, region, sweepInterval));

    protected override void PreStart() => Timers.StartPeriodicTimer(SweepBatchCalls.Instance, SweepBatchCalls.Instance, _sweepInterval);

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case DrainBatchCalls:
                _ingest.DrainReadyShared(_send);
                break;
            case OperationReplies replies:
                foreach (var each in replies.Replies)
                {
                    if (TakeSent(each.OperationId) is { } grouped)
                        Complete(grouped, each);
                }

                break;
            case IOperationReply reply:
                if (TakeSent(reply.OperationId) is { } call)
                    Complete(call, reply);
                break;
            case OfferRoute offer:
                _ingest.TryOpenRoute(offer.Key, offer.RegionSend, offer.Entity);
                break;
            case CloseRoute close:
                _ingest.CloseRoute(close.Key, close.Entity);
                close.Entity.Tell(new RouteClosed(close.CloseId)); // behind every call told to it directly
                break;
            case ForgetRoute forget:
                _ingest.CloseRoute(forget.Key, forget.Entity);
                break;
            case CancelBatchCall cancel:
                // the call may still wait in the queue (its wake-up behind this message): sent first, it is cancelled behind
                _ingest.DrainReadyShared(_send);
                if (_ingest.TryNumberOf(cancel.OperationId, out var number) && _sent.TryGetValue(number, out var cancelled) && !cancelled.IsAnswered)
                    _region.Tell(new CancelOperation(cancel.Key, cancel.OperationId), Self);
                break;
            case SweepBatchCalls:
                Sweep();
                _ingest.RetireIdleCells();
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    protected override void PostStop()
    {
        // the system is stopping (or this actor failed): no caller is left waiting for a reply that cannot come any more
        _ingest.DrainReadyShared((cell, calls) =>
        {
            foreach (var call in calls)
                Complete(call, new OperationFailed(cell.Key, call.Run.OperationId, ErrorCode.ShuttingDown, "the node stopped before the operation was sent"));
        });
        foreach (var call in _sent.Values)
            Complete(call, new OperationFailed(call.Run.Key, call.Run.OperationId, ErrorCode.Timeout,
                "the node's batch sender stopped while the operation was under way; its outcome is unknown"));
        _sent.Clear();
    }

    private void Sweep()
    {
        // one pass: the calls answered in place are forgotten, the ones past their callers' wait collected
        var now = Stopwatch.GetTimestamp();
        foreach (var (number, call) in _sent)
        {
            if (call.IsAnswered)
                _sent.Remove(number); // allowed while enumerating a Dictionary since .NET Core 3.0
            else if (call.AnswerBy <= now)
                _expired.Add(call);
        }

        foreach (var call in _expired)
        {
            TakeSent(call.Run.OperationId);
            if (call.ReplyTo is not null)
                continue; // a call group settled it at its own deadline
            call.Answer(new OperationFailed(call.Run.Key, call.Run.OperationId, ErrorCode.Timeout,
                $"no answer for the operation on [{call.Run.Key}] within {call.AnswerWithin}; its outcome is unknown"));
        }

        _expired.Clear();
    }

    private static void Complete(BatchCall call, IOperationReply reply) => call.Answer(reply);

    private BatchCall? TakeSent(Guid operationId) =>
        _ingest.TryNumberOf(operationId, out var number) && _sent.Remove(number, out var call) ? call : null;

    private void Send(BatchIngest.Cell cell, List<BatchCall> calls)
    {
        var key = cell.Key;
        IActorRef to;
        long regionSend;
        if (cell.Route is { } entity)
        {
            to = entity;
            regionSend = BatchCall.ToldDirectly;
        }
        else
        {
            to = _region;
            regionSend = cell.LastRegionSend = ++_regionSends;
        }

        if (calls.Count == 1)
        {
            var call = calls[0];
            if (Track(key, call))
            {
                call.RegionSend = regionSend;
                to.Tell(call.Run, Self);
            }

            return;
        }

        var runs = new RunOperation[calls.Count];
        var count = 0;
        foreach (var call in calls)
        {
            if (!Track(key, call))
                continue;
            call.RegionSend = regionSend;
            runs[count++] = call.Run;
        }

        if (count > 0)
            // an entity on another node answers the group's operations in one message, not one each
            to.Tell(new RunOperations(key, count == runs.Length ? runs : runs[..count]) { GroupReplies = true }, Self);
    }

    /// <summary>Registers a call about to be sent; false (and the call answered) when its id is not this stage's.</summary>
    private bool Track(string key, BatchCall call)
    {
        // every id is made by this stage (BatchIngest.NewOperationId); a foreign one could not be found by its reply
        if (!_ingest.TryNumberOf(call.Run.OperationId, out var number))
        {
            call.Answer(new OperationFailed(key, call.Run.OperationId, ErrorCode.InvalidArgument,
                "the operation id was not made by this node's batch processor"));
            return false;
        }

        _sent[number] = call;
        if (_sent.Count >= _purgeAt)
        {
            // calls answered by their entity in this process stay here until a sweep: between sweeps they are dropped once
            // they are as many again as the calls still waiting, so the map stays within twice what is in flight
            ForgetAnswered();
            _purgeAt = Math.Max(MinPurgeAt, 2 * _sent.Count);
        }

        return true;
    }

    private void ForgetAnswered()
    {
        foreach (var (number, call) in _sent)
            if (call.IsAnswered)
                _sent.Remove(number); // allowed while enumerating a Dictionary since .NET Core 3.0
    }
}
