using System.Collections.Immutable;
using System.Runtime.InteropServices;
using Akka.Actor;

namespace Akka.WriteBehind.Counters;

/// <summary>
/// INTERNAL API
/// <para>
/// Journal durability's increments of one counter on their way into its shard log, without the actor: the group that
/// waits for the next persist, the group being persisted (one at a time per key), and the reads and flushes that wait for
/// the persists holding increments that arrived before them. Memory durability never fills it.
/// </para>
/// </summary>
internal sealed class JournalGroups
{
    private readonly int _bound;
    private List<JournalWaiting> _group = new();
    private long _groupSum;
    private List<RequestDelta>? _groupRequests;
    private List<JournalWaiting>? _persisting;
    private List<JournalWaiting>? _spare; // the list of the last persist ended, reused for the next group once answered
    private long _persistsStarted;
    private long _persistsCompleted;
    private readonly List<DeferredCommand> _deferred = new();

    /// <param name="bound">Increments waiting for the next persist, and reads and flushes waiting for persists, at most each.</param>
    public JournalGroups(int bound) => _bound = bound;

    /// <summary>Increments waiting for the next persist.</summary>
    public int Grouped => _group.Count;

    /// <summary>Increments of the persist in flight (0: none in flight).</summary>
    public int Persisting => _persisting?.Count ?? 0;

    /// <summary>Whether no increment waits for the journal.</summary>
    public bool IsEmpty => _persisting is null && _group.Count == 0;

    /// <summary>The delta of the persist in flight (0: none).</summary>
    public long PersistingSum { get; private set; }

    /// <summary>The request ids of the persist in flight.</summary>
    public ImmutableArray<RequestDelta> PersistingRequests { get; private set; }

    /// <summary>What the journal has not confirmed yet: the persist in flight plus the waiting group.</summary>
    public Int128 Unjournaled => (Int128)PersistingSum + _groupSum;

    /// <summary>The waiting group's delta.</summary>
    public long GroupSum => _groupSum;

    /// <summary>Whether another increment may join the waiting group.</summary>
    public bool HasRoom => _group.Count < _bound;

    /// <summary>Where the increment last added (or refusal last queued) waits: see <see cref="HandOver"/>.</summary>
    public Slot Last { get; private set; }

    /// <summary>Adds an accepted increment to the waiting group.</summary>
    /// <param name="waiting">Whom to answer once it is journaled.</param>
    /// <param name="groupSum">The group's delta with it, checked by the caller.</param>
    /// <param name="fresh">Its request ids not counted before.</param>
    public void Add(JournalWaiting waiting, long groupSum, ImmutableArray<RequestDelta> fresh)
    {
        Last = new Slot(_group, _group.Count);
        _group.Add(waiting);
        _groupSum = groupSum;
        if (!fresh.IsDefaultOrEmpty)
            (_groupRequests ??= new List<RequestDelta>()).AddRange(fresh);
    }

    /// <summary>
    /// Queues a refusal behind the increments still waiting for the journal, so that it is answered in arrival order.
    /// </summary>
    /// <returns><c>false</c> when nothing waits: answer at once.</returns>
    public bool TryQueueRefusal(JournalWaiting refusal)
    {
        var waitingBefore = _group.Count > 0 ? _group : _persisting;
        if (waitingBefore is null)
            return false;
        Last = new Slot(waitingBefore, waitingBefore.Count);
        waitingBefore.Add(refusal);
        return true;
    }

    /// <summary>
    /// Makes the increment at <paramref name="slot"/> free the ingest slot <paramref name="envelopeId"/> when it is answered
    /// (the last increment of a command set). Valid while that increment waits: within the turn that added it.
    /// </summary>
    public static void HandOver(Slot slot, IActorRef ingest, long envelopeId)
    {
        ref var waiting = ref CollectionsMarshal.AsSpan(slot.List)[slot.Index];
        waiting.Ingest = ingest;
        waiting.EnvelopeId = envelopeId;
    }

    /// <summary>Takes the waiting group as the persist in flight, when there is a group and nothing in flight.</summary>
    public bool TryStartPersist()
    {
        if (_persisting is not null || _group.Count == 0)
            return false;
        _persisting = _group;
        PersistingSum = _groupSum;
        PersistingRequests = _groupRequests?.ToImmutableArray() ?? default;
        _persistsStarted++;
        // with about one increment per key per persist, a new list (and its array) per persist was paid per increment
        _group = _spare ?? new List<JournalWaiting>();
        _group.Clear();
        _spare = null;
        _groupSum = 0;
        _groupRequests = null;
        return true;
    }

    /// <summary>
    /// Ends the persist in flight (journaled or failed) and returns its increments, to be answered. The list is reused for
    /// a later group: answer them before the next <see cref="TryStartPersist"/>.
    /// </summary>
    public List<JournalWaiting> EndPersist()
    {
        var ended = _persisting ?? throw new InvalidOperationException("no persist in flight");
        _persisting = null;
        _spare = ended;
        PersistingSum = 0;
        PersistingRequests = default;
        _persistsCompleted++;
        return ended;
    }

    /// <summary>Takes the waiting group out without persisting it (it is refused); reads and flushes waiting for it go on.</summary>
    public List<JournalWaiting> TakeGroup()
    {
        var taken = _group;
        _group = new List<JournalWaiting>();
        _groupSum = 0;
        _groupRequests = null;
        _persistsStarted++;
        _persistsCompleted++;
        return taken;
    }

    /// <summary>
    /// Defers a read or flush until the persists holding the increments that arrived before it are done.
    /// </summary>
    /// <returns><see cref="Deferral.NotNeeded"/>: handle it now; <see cref="Deferral.Deferred"/>; <see cref="Deferral.Full"/>: refuse it.</returns>
    public Deferral TryDefer(ICounterCommand command, IActorRef replyTo)
    {
        var needed = _group.Count > 0 ? _persistsStarted + 1 : _persisting is not null ? _persistsStarted : 0;
        if (needed <= _persistsCompleted)
            return Deferral.NotNeeded;
        if (_deferred.Count >= _bound)
            return Deferral.Full;
        _deferred.Add(new DeferredCommand(command, replyTo, needed));
        return Deferral.Deferred;
    }

    /// <summary>The deferred reads and flushes whose persists are done, in arrival order; they leave the list.</summary>
    public IReadOnlyList<DeferredCommand> TakeReady()
    {
        // deferred in the order of the persists they wait for: when the first is not ready none is (and nothing is allocated,
        // which asking after every persist used to do)
        if (_deferred.Count == 0 || _deferred[0].NeededPersist > _persistsCompleted)
            return [];
        var ready = _deferred.Where(d => d.NeededPersist <= _persistsCompleted).ToList();
        _deferred.RemoveAll(d => d.NeededPersist <= _persistsCompleted);
        return ready;
    }

    /// <summary>Where an increment waits: its list (the group, or the persist it went with) and its place in it.</summary>
    public readonly record struct Slot(List<JournalWaiting> List, int Index);

    /// <summary>What <see cref="TryDefer"/> did.</summary>
    public enum Deferral
    {
        NotNeeded,
        Deferred,
        Full,
    }
}

/// <summary>INTERNAL API: a read or flush waiting for persist number <see cref="NeededPersist"/> to finish.</summary>
internal sealed record DeferredCommand(ICounterCommand Command, IActorRef ReplyTo, long NeededPersist);

/// <summary>
/// INTERNAL API
/// <para>An increment waiting for its group to be journaled, with whom to answer and which ingest slot to free; or, with a
/// <see cref="Refusal"/>, an increment refused after the group, answered in its turn and not part of the delta. A struct held
/// in the groups' lists: an object per acknowledged increment was ~45 B of it.</para>
/// </summary>
internal struct JournalWaiting(long delta, IActorRef replyTo, IActorRef? ingest, long envelopeId, CounterRejected? refusal = null)
{
    public long Delta { get; } = delta;

    public IActorRef ReplyTo { get; } = replyTo;

    public IActorRef? Ingest { get; set; } = ingest;  // set later for the last increment of a command set

    public long EnvelopeId { get; set; } = envelopeId;

    public CounterRejected? Refusal { get; } = refusal;
}
