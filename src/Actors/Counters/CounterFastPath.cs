using System.Collections.Concurrent;
using System.Collections.Immutable;
using Akka.WriteBehind.Internal;

namespace Akka.WriteBehind.Counters;

/// <summary>What <see cref="CounterFastPath.Increment"/> did with an increment.</summary>
public enum FastIncrementStatus
{
    /// <summary>Added to the key's aggregate; it reaches the entity with the next drain (at most <c>ingest.aggregate-window</c>).</summary>
    Buffered,

    /// <summary>Refused: the key breaks <see cref="KeyRules"/>. Nothing was changed.</summary>
    InvalidKey,

    /// <summary>Refused: <c>ingest.fast-path-max-keys</c> keys already hold aggregates and this key is not one of them. Nothing was changed; retry later.</summary>
    Saturated,

    /// <summary>Refused: the key's aggregate already holds the most 64-bit overflow splits (16). Nothing was changed.</summary>
    Overflow,

    /// <summary>Refused: the node is shutting down (its aggregates are being drained). Nothing was changed.</summary>
    ShuttingDown,
}

/// <summary>How a <see cref="FastIncrementStatus"/> reads in the error model every feature shares.</summary>
public static class FastIncrementStatusExtensions
{
    /// <summary>
    /// The <see cref="ErrorCode"/> of a refusal, the code an acknowledged increment refused for the same reason carries
    /// (<see cref="CounterRejected.Code"/>, <see cref="WriteBehindException.Code"/>); <c>null</c> for
    /// <see cref="FastIncrementStatus.Buffered"/>.
    /// </summary>
    /// <param name="status">What the fast path did with an increment.</param>
    public static ErrorCode? ToErrorCode(this FastIncrementStatus status) => status switch
    {
        FastIncrementStatus.Buffered => null,
        FastIncrementStatus.InvalidKey => ErrorCode.InvalidKey,
        FastIncrementStatus.Saturated => ErrorCode.Saturated,
        FastIncrementStatus.Overflow => ErrorCode.Overflow,
        FastIncrementStatus.ShuttingDown => ErrorCode.ShuttingDown,
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, "not a fast increment status"),
    };
}

/// <summary>
/// Buffered increments that their entity refused after <see cref="CounterFastPath.Increment"/> returned
/// <see cref="FastIncrementStatus.Buffered"/> (the aggregate as a whole, e.g. <see cref="ErrorCode.Overflow"/>).
/// </summary>
/// <param name="Key">The counter's key.</param>
/// <param name="Delta">The refused aggregate (the sum of <paramref name="Increments"/> increments).</param>
/// <param name="Increments">How many increments the aggregate held.</param>
/// <param name="Code">Why, as a code to switch on.</param>
/// <param name="Message">Why, for people.</param>
public sealed record FastIncrementRefusal(string Key, long Delta, long Increments, ErrorCode Code, string Message);

/// <summary>
/// The node-local fire-and-forget fast path of a counter set (<see cref="CounterSet.FastPath"/>): no actor message per
/// increment. <see cref="Increment"/> adds the delta to the key's aggregate in a thread-safe cell (a dictionary lookup, a lock
/// and a checked add); the ingest stage drains every aggregate each <c>ingest.aggregate-window</c> into ONE
/// <see cref="Counters.Increment"/> per key through its flow-controlled per-key queues. A <see cref="GetCounter"/>,
/// <see cref="FlushCounter"/> or any other command for a key sent to <see cref="CounterRegion"/> on this node first drains that
/// key's aggregate, so reads on this node see every increment buffered before them (read-your-writes).
/// <para>
/// Nothing is dropped: a sum that would overflow 64 bits is split into a new aggregate (each checked by the entity on its own;
/// one the entity refuses is counted in <see cref="RefusedIncrements"/> and reported through <see cref="Refused"/>); an
/// aggregate the ingest stage cannot take because its queues are full stays buffered and is retried next window, and new keys
/// beyond <c>ingest.fast-path-max-keys</c> are refused at once with <see cref="FastIncrementStatus.Saturated"/>.
/// CoordinatedShutdown drains every aggregate before the ingest stage drains. Durability: a buffered increment lives in this
/// process's memory until its window drains (then it has the set's durability); <see cref="Increment"/> has no
/// acknowledgement per increment, <see cref="IncrementAsync(string, long, string?)"/> has one: its task completes when the aggregate that holds it
/// is durable under the set's durability (journal: persisted in the shard log; memory: taken by the entity).
/// </para>
/// </summary>
public sealed class CounterFastPath
{
    /// <summary>Most overflow splits one key's aggregate holds before <see cref="FastIncrementStatus.Overflow"/>.</summary>
    internal const int MaxSplits = 16;

    private readonly ConcurrentDictionary<string, Cell> _cells = new(StringComparer.Ordinal);
    // cells that got increments since they were last taken: a drain visits these, not every cell, and without a lookup
    private readonly ConcurrentQueue<Cell> _ready = new();
    // cells taken or answered since the last retiring drain, and in the period before it: a retiring drain retires those of
    // the earlier period that stayed idle since
    private List<(string Key, Cell Cell)> _taken = new();
    private List<(string Key, Cell Cell)> _takenBefore = new();
    private readonly int _maxKeys;
    private readonly int _retireEvery;
    private int _timedDrains;  // since the last retiring drain
    private int _generation;   // retiring drains so far: a cell records the one it was last taken or answered in
    private int _cellCount;
    private volatile bool _closed;
    // written by the ingest stage at every take and answer: in an object of their own, so that those writes do not take
    // away from the callers' core the cache line of the fields every increment reads
    private readonly Tallies _tallies = new();

    private int _wakeRequested;

    /// <summary>How long a cell stays idle before it is retired, about: the retiring drains are this far apart.</summary>
    internal static readonly TimeSpan RetireIdleAfter = TimeSpan.FromMilliseconds(100);

    /// <param name="maxKeys">Keys holding a cell at most (<c>ingest.fast-path-max-keys</c>).</param>
    /// <param name="retireEvery">Every how many timed drains idle cells are retired (<see cref="RetireEveryFor"/>); every one
    /// while half the cells or more are in use.</param>
    internal CounterFastPath(int maxKeys, int retireEvery = 1)
    {
        _maxKeys = maxKeys;
        _retireEvery = Math.Max(1, retireEvery);
    }

    /// <summary>The timed drains in <see cref="RetireIdleAfter"/> at the aggregate window <paramref name="window"/>.</summary>
    internal static int RetireEveryFor(TimeSpan window) => (int)Math.Max(1, RetireIdleAfter.Ticks / Math.Max(1, window.Ticks));

    /// <summary>
    /// INTERNAL API: asks the ingest stage for a drain now. An acknowledged increment (<see cref="IncrementAsync(string, long, string?)"/>) does not
    /// wait for the aggregate window: its caller waits for it, and a key whose previous aggregate is in flight keeps growing
    /// anyway, so increments still group under load while a lone caller is answered in one round trip.
    /// </summary>
    internal Action? Wake { get; set; }

    /// <summary>INTERNAL API: an increment asked for a drain that has not started yet (it asks no more until one does).</summary>
    internal bool WakeRequested => Volatile.Read(ref _wakeRequested) != 0;

    /// <summary>
    /// Raised (on the ingest stage's thread; keep it short) for each buffered aggregate its entity refused. The refusal is also
    /// counted in <see cref="RefusedIncrements"/>, in the <c>akka.write_behind.counters.refusals</c> metric and logged as a warning.
    /// </summary>
    public event Action<FastIncrementRefusal>? Refused;

    /// <summary>INTERNAL API: keys holding a cell now.</summary>
    internal int CellCount => Volatile.Read(ref _cellCount);

    /// <summary>INTERNAL API: cells taken or answered in this retiring period (the next retiring drain but one looks at them).</summary>
    internal int TouchedThisPeriod => _taken.Count;

    /// <summary>Buffered increments handed to the ingest stage so far.</summary>
    public long DrainedIncrements => Interlocked.Read(ref _tallies.Drained);

    /// <summary>Buffered increments their entity holds so far (memory durability: accepted; journal durability: journaled).</summary>
    public long DeliveredIncrements => Interlocked.Read(ref _tallies.Delivered);

    /// <summary>Buffered increments their entity refused so far (see <see cref="Refused"/>).</summary>
    public long RefusedIncrements => Interlocked.Read(ref _tallies.Refused);

    /// <summary>
    /// Adds <paramref name="delta"/> to the counter <paramref name="key"/> without an actor message. Thread-safe; never blocks
    /// beyond a short lock on the key's cell.
    /// </summary>
    /// <param name="key">The counter's key (validated once, when the key gets a cell).</param>
    /// <param name="delta">Any 64-bit value, negative included.</param>
    /// <returns><see cref="FastIncrementStatus.Buffered"/>, or why it was refused (nothing changed then).</returns>
    public FastIncrementStatus Increment(string key, long delta) => Add(key, delta, null, null);

    /// <summary>
    /// Adds <paramref name="delta"/> to the counter <paramref name="key"/> like <see cref="Increment"/>, and tells its outcome:
    /// the task completes with <see cref="IncrementAccepted"/> once the aggregate holding the increment is durable under the
    /// set's durability (journal: persisted in its shard's log; memory: taken by its entity), or with
    /// <see cref="CounterRejected"/> and the reason as an <see cref="ErrorCode"/> (invalid key, saturated, overflow, shutting
    /// down, store failure). Aggregated like <see cref="Increment"/>: no actor message per increment. It does not wait for
    /// <c>ingest.aggregate-window</c>: the ingest stage drains at once (while a batch of its routed aggregates waits at its
    /// shard log for an event, once the log writes it), and a key whose previous aggregate is still on its way keeps summing
    /// meanwhile. Thread-safe; continuations run asynchronously, never on the ingest stage's thread.
    /// </summary>
    /// <param name="key">The counter's key.</param>
    /// <param name="delta">Any 64-bit value, negative included.</param>
    /// <param name="requestId">
    /// Makes the increment safe to retry: a repeat of this id for the same key within <c>idempotency.window</c> (10 minutes by
    /// default) is not applied again and completes as the first did (<see cref="IncrementAccepted"/>), also after a crash or a
    /// hand-off. <c>null</c> (the default): no id. An id that breaks <see cref="RequestIds"/> completes with
    /// <see cref="CounterRejected"/> and <see cref="ErrorCode.InvalidArgument"/>.
    /// </param>
    public Task<ICounterReply> IncrementAsync(string key, long delta, string? requestId = null)
    {
        var waiter = new TaskWaiter(delta);
        if (Buffer(key, delta, requestId, waiter) is { } refusal)
            return Task.FromResult<ICounterReply>(refusal);
        RequestDrain();
        return waiter.Task;
    }

    /// <summary>
    /// Adds many increments, each like <see cref="IncrementAsync(string, long, string?)"/> (its own outcome, its own request
    /// id), with one task for all of them: it completes once every increment has its outcome, given in the order of
    /// <paramref name="increments"/>, or once <paramref name="timeout"/> has passed; an increment without an outcome by then is
    /// <c>null</c> in the array (its outcome is unknown to the caller: it may still be applied). Increments of one key are
    /// applied in their order. The ingest stage is woken once, after the last of them is buffered.
    /// </summary>
    /// <param name="increments">The keys and deltas, each with its <see cref="Counters.Increment.RequestId"/> if it has one.</param>
    /// <param name="timeout">How long to wait for the outcomes at most.</param>
    /// <param name="cancellationToken">Stops the wait (the task is cancelled; the increments are not withdrawn).</param>
    public async Task<ICounterReply?[]> IncrementAsync(IReadOnlyList<Increment> increments, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var group = Start(increments);
        try
        {
            return await group.Task.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return group.Snapshot();
        }
    }

    /// <summary>
    /// INTERNAL API: buffers every increment of <paramref name="increments"/> with one shared completion: a fan-out of many
    /// awaited increments then costs one continuation, not one per increment.
    /// </summary>
    internal WaiterGroup Start(IReadOnlyList<Increment> increments)
    {
        var group = new WaiterGroup(increments.Count);
        var buffered = false;
        for (var i = 0; i < increments.Count; i++)
        {
            var (key, delta, requestId) = (increments[i].Key, increments[i].Delta, increments[i].RequestId);
            if (Buffer(key, delta, requestId, new GroupWaiter(delta, group, i)) is { } refusal)
                group.Set(i, refusal);
            else
                buffered = true;
        }

        if (buffered)
            RequestDrain();
        return group;
    }

    /// <summary>Buffers one awaited increment with its waiter: <c>null</c> when buffered, else why it was refused (nothing changed).</summary>
    private CounterRejected? Buffer(string key, long delta, string? requestId, IWaiter waiter)
    {
        if (requestId is not null && !RequestIds.TryValidate(requestId, out var error))
            return new CounterRejected(key ?? "", ErrorCode.InvalidArgument, error!);
        var status = Add(key, delta, waiter, requestId);
        return status == FastIncrementStatus.Buffered ? null : Refusal(key, delta, status);
    }

    /// <summary>Asks the ingest stage for a drain: once per drain, and after the last increment of a fan-out (<see cref="DeferredSignals"/>).</summary>
    private void RequestDrain()
    {
        // read first: while a wake-up is pending (the ingest stage may defer it for a while) every caller would otherwise
        // write the flag, and the cache line would move between the cores at every increment
        if (Wake is { } wake && Volatile.Read(ref _wakeRequested) == 0 && Interlocked.Exchange(ref _wakeRequested, 1) == 0)
            DeferredSignals.Signal(wake);
    }

    private CounterRejected Refusal(string? key, long delta, FastIncrementStatus status) => status switch
    {
        FastIncrementStatus.InvalidKey => new CounterRejected(key ?? "", ErrorCode.InvalidKey,
            KeyRules.TryValidate(key, out var error) ? "invalid key" : error!),
        FastIncrementStatus.Saturated => new CounterRejected(key!, ErrorCode.Saturated,
            $"the fast path on this node already holds aggregates for {_maxKeys} keys (ingest.fast-path-max-keys); retry later")
        {
            Saturation = new Queues.QueueSaturated("fast path", key!, Queues.QueueLimit.Depth, Volatile.Read(ref _cellCount), _maxKeys),
        },
        FastIncrementStatus.Overflow => new CounterRejected(key!, ErrorCode.Overflow,
            $"adding {delta} overflows the key's buffered aggregates"),
        _ => new CounterRejected(key!, status.ToErrorCode()!.Value, "the node is shutting down"),
    };

    private FastIncrementStatus Add(string key, long delta, IWaiter? waiter, string? requestId)
    {
        if (key is null)
            return FastIncrementStatus.InvalidKey;
        while (true)
        {
            if (!_cells.TryGetValue(key, out var cell))
            {
                if (_closed)
                    return FastIncrementStatus.ShuttingDown;
                if (!KeyRules.TryValidate(key, out _))
                    return FastIncrementStatus.InvalidKey;
                if (Volatile.Read(ref _cellCount) >= _maxKeys)
                    return FastIncrementStatus.Saturated;
                if (_cells.TryAdd(key, new Cell(key)))
                    Interlocked.Increment(ref _cellCount);
                continue;
            }

            lock (cell)
            {
                if (cell.Retired)
                    continue; // the drain removed it as idle: take the key's new cell
                if (_closed)
                    return FastIncrementStatus.ShuttingDown;
                var sum = unchecked(cell.Sum + delta);
                if (((cell.Sum ^ sum) & (delta ^ sum)) < 0)
                {
                    // the aggregate would overflow: close it and start a new one (the entity checks each on its own)
                    if (cell.Splits is { Count: >= MaxSplits })
                        return FastIncrementStatus.Overflow;
                    (cell.Splits ??= new List<Aggregate>()).Add(new Aggregate(cell.Sum, cell.Count, cell.Waiters, cell.Requests, cell));
                    cell.Sum = delta;
                    cell.Count = 1;
                    cell.Waiters = null;
                    cell.Requests = null;
                }
                else
                {
                    cell.Sum = sum;
                    cell.Count++;
                }

                if (waiter is not null)
                {
                    waiter.Next = cell.Waiters; // a chain through the waiters: no list per key per drain
                    cell.Waiters = waiter;
                }
                if (requestId is not null)
                    (cell.Requests ??= new List<RequestDelta>()).Add(new RequestDelta(requestId, delta));
                MarkReady(cell);
                return FastIncrementStatus.Buffered;
            }
        }
    }

    /// <summary>Puts the cell on the ready queue unless it is there already. Called under the cell's lock.</summary>
    private void MarkReady(Cell cell)
    {
        if (cell.Queued)
            return;
        cell.Queued = true;
        _ready.Enqueue(cell);
    }

    // ------------------------------------------------------------ the ingest stage's side (one thread at a time)

    /// <summary>INTERNAL API: refuses new increments from now on (the shutdown drain follows).</summary>
    internal void Close() => _closed = true;

    /// <summary>
    /// INTERNAL API: hands every key's aggregates, in order, to <paramref name="take"/>, and retires idle cells: the shutdown
    /// drain, which holds nothing back.
    /// </summary>
    internal void DrainAll(Action<string, Aggregate> take)
    {
        foreach (var (key, cell) in _cells)
            TakeCell(key, cell, take, retireIdle: true);
    }

    /// <summary>
    /// INTERNAL API: the timed drain. Hands on the aggregates of the keys that got increments since they were last taken,
    /// in order, visiting only those keys (a scan of every cell per window cost the durable path a tenth of its CPU). A key
    /// whose previous aggregate is <paramref name="inFlight"/> keeps growing until <see cref="Requeue"/> after its answer;
    /// once <paramref name="mayStart"/> says no, the remaining keys wait for the next drain. Every few
    /// <paramref name="timed"/> drains (the window's timer; see the constructor), the cells that were neither taken nor
    /// answered since the retiring drain before, and are idle and not in flight, are retired.
    /// </summary>
    internal void DrainReady(Action<string, Aggregate> take, Func<Cell, bool> inFlight, Func<bool> mayStart, bool timed)
    {
        Volatile.Write(ref _wakeRequested, 0); // cleared first: an increment from here on asks for another drain
        if (timed && (++_timedDrains >= _retireEvery || Volatile.Read(ref _cellCount) >= _maxKeys / 2))
        {
            _timedDrains = 0;
            RetireIdle(inFlight);
        }

        var visits = _ready.Count; // cells queued again meanwhile (restored aggregates) wait for the next drain
        List<Cell>? later = null;
        for (var i = 0; i < visits && _ready.TryDequeue(out var cell); i++)
        {
            // a retired cell held nothing; increments after it went to the key's new cell, which queued itself
            if (cell.Retired)
                continue;
            var key = cell.Key;
            if (inFlight(cell))
            {
                lock (cell)
                    cell.Queued = false; // Requeue puts it back after the answer
                continue;
            }

            if (!mayStart())
            {
                (later ??= new List<Cell>()).Add(cell);
                continue;
            }

            TakeCell(key, cell, take, retireIdle: false);
        }

        if (later is not null)
            foreach (var cell in later)
                _ready.Enqueue(cell); // still marked queued
    }

    /// <summary>
    /// Retires the cells taken or answered before the last retiring drain and not since: idle for a whole period. An awaiting
    /// caller's next increment of a key comes some milliseconds after its answer, and retiring cells idle only at the instant
    /// of a drain cost a new cell for about every third acknowledged increment.
    /// </summary>
    private void RetireIdle(Func<Cell, bool> inFlight)
    {
        // a key still in flight is not carried over: its answer (Requeue) makes it a candidate again. Carrying every
        // in-flight key from drain to drain was a dictionary lookup per key in flight per drain, a tenth of the CPU
        foreach (var (key, cell) in _takenBefore)
            if (!inFlight(cell))
                Retire(key, cell);
        _takenBefore.Clear();
        (_takenBefore, _taken) = (_taken, _takenBefore);
        _generation++;
    }

    /// <summary>INTERNAL API: the aggregate of <paramref name="key"/> in flight was answered: what grew meanwhile goes with the next drain.</summary>
    /// <param name="key">The key answered.</param>
    /// <param name="source">The cell the aggregate was taken from (<see cref="Aggregate.Source"/>): no lookup while it is
    /// the key's cell still.</param>
    internal void Requeue(string key, Cell? source = null)
    {
        // cells are retired only on the ingest stage's thread, which calls this: a source not retired now is the key's cell
        var cell = source is { Retired: false } ? source : _cells.GetValueOrDefault(key);
        if (cell is null)
            return;
        lock (cell)
        {
            if (cell.Retired)
                return;
            if (cell.Count != 0 || cell.Splits is not null)
            {
                MarkReady(cell);
                return;
            }

            if (!Touch(cell))
                return; // on this period's list already
        }

        _taken.Add((key, cell)); // idle now: retired unless it gets increments before the retiring drain after next
    }

    /// <summary>
    /// Marks the cell taken or answered in this retiring period; whether it was not yet (it goes on the period's list then).
    /// Once per period, not per take: a key takes about one increment per take under load, and a list entry per take was
    /// an entry, a lookup and a lock per acknowledged increment in the retiring drain. Called under the cell's lock.
    /// </summary>
    private bool Touch(Cell cell)
    {
        if (cell.Touched == _generation)
            return false;
        cell.Touched = _generation;
        return true;
    }

    private void Retire(string key, Cell cell)
    {
        lock (cell)
        {
            if (cell.Retired || cell.Queued || cell.Count != 0 || cell.Splits is not null || cell.Touched == _generation)
                return; // busy, or taken again since: it is on the newer list too
            cell.Retired = true;
        }

        if (_cells.TryRemove(new KeyValuePair<string, Cell>(key, cell)))
            Interlocked.Decrement(ref _cellCount);
    }

    /// <summary>INTERNAL API: hands <paramref name="key"/>'s aggregates, in order, to <paramref name="take"/>.</summary>
    internal void Drain(string key, Action<string, Aggregate> take)
    {
        if (_cells.TryGetValue(key, out var cell))
            TakeCell(key, cell, take, retireIdle: false);
    }

    /// <summary>INTERNAL API: puts an aggregate the ingest stage could not take back in front of the key's newer ones.</summary>
    internal void Restore(string key, Aggregate aggregate)
    {
        Interlocked.Add(ref _tallies.Drained, -aggregate.Count);
        while (true)
        {
            if (!_cells.TryGetValue(key, out var cell))
            {
                if (_cells.TryAdd(key, new Cell(key)))
                    Interlocked.Increment(ref _cellCount);
                continue;
            }

            lock (cell)
            {
                if (cell.Retired)
                    continue;
                if (cell.Count == 0 && cell.Splits is null)
                {
                    cell.Sum = aggregate.Sum;
                    cell.Count = aggregate.Count;
                    cell.Waiters = aggregate.Waiters;
                    cell.Requests = aggregate.Requests;
                }
                else
                    (cell.Splits ??= new List<Aggregate>()).Insert(0, aggregate);
                MarkReady(cell);
                return;
            }
        }
    }

    /// <summary>INTERNAL API: whether any aggregate is buffered (meant for the shutdown drain, when no increments come in).</summary>
    internal bool AnyBuffered()
    {
        foreach (var (_, cell) in _cells)
            lock (cell)
                if (cell.Count != 0 || cell.Splits is not null)
                    return true;
        return false;
    }

    /// <summary>INTERNAL API: the keys with a buffered aggregate now (for flush-all).</summary>
    internal List<string> BufferedKeys()
    {
        var keys = new List<string>();
        foreach (var (key, cell) in _cells)
            lock (cell)
                if (cell.Count != 0 || cell.Splits is not null)
                    keys.Add(key);
        return keys;
    }

    /// <summary>INTERNAL API: the aggregate is durable under the set's durability; its waiters hear so.</summary>
    /// <param name="key">The aggregate's key.</param>
    /// <param name="aggregate">The aggregate.</param>
    /// <param name="answer">The entity's answer to it, if any: handed on as it is to a waiter whose delta it names (an
    /// immutable message, so a lone caller of a key costs no answer of its own).</param>
    internal void Delivered(string key, Aggregate aggregate, IncrementAccepted? answer = null)
    {
        Interlocked.Add(ref _tallies.Delivered, aggregate.Count);
        for (var waiter = aggregate.Waiters; waiter is not null; waiter = waiter.Next)
            waiter.Complete(answer is not null && answer.Delta == waiter.Delta && answer.Key == key
                ? answer
                : Accepted(key, waiter.Delta, aggregate.Source));
    }

    /// <summary>
    /// The answer for an accepted delta: an immutable message, so the key's cell keeps the last one made and hands it on
    /// again while the delta is the same (most callers of a key add the same delta, and a key holds about one increment per
    /// journal event under load: an answer made per caller was 31 B of the 547 B an acknowledged increment allocated).
    /// </summary>
    private static IncrementAccepted Accepted(string key, long delta, Cell? cell)
    {
        if (cell?.Accepted is { } last && last.Delta == delta)
            return last;
        var accepted = new IncrementAccepted(key, delta);
        if (cell is not null)
            cell.Accepted = accepted;
        return accepted;
    }

    /// <summary>INTERNAL API: the aggregate's entity refused it; its waiters hear why.</summary>
    internal void Refuse(string key, Aggregate aggregate, ErrorCode code, string message)
    {
        for (var waiter = aggregate.Waiters; waiter is not null; waiter = waiter.Next)
            waiter.Complete(new CounterRejected(key, code, message));
        try
        {
            Refused?.Invoke(new FastIncrementRefusal(key, aggregate.Sum, aggregate.Count, code, message));
        }
        finally
        {
            // counted after the report: whoever sees the count sees the refusal reported too
            Interlocked.Add(ref _tallies.Refused, aggregate.Count);
        }
    }

    private void TakeCell(string key, Cell cell, Action<string, Aggregate> take, bool retireIdle)
    {
        List<Aggregate>? splits;
        Aggregate last;
        bool touched;
        lock (cell)
        {
            if (cell.Count == 0 && cell.Splits is null)
            {
                if (retireIdle && !cell.Retired)
                {
                    cell.Retired = true;
                    if (_cells.TryRemove(new KeyValuePair<string, Cell>(key, cell)))
                        Interlocked.Decrement(ref _cellCount);
                }

                return;
            }

            splits = cell.Splits;
            last = new Aggregate(cell.Sum, cell.Count, cell.Waiters, cell.Requests, cell);
            cell.Splits = null;
            cell.Sum = 0;
            cell.Count = 0;
            cell.Waiters = null;
            cell.Requests = null;
            cell.Queued = false; // an entry left on the ready queue finds it empty
            touched = Touch(cell);
        }

        if (touched)
            _taken.Add((key, cell));

        if (splits is not null)
            foreach (var split in splits)
            {
                Interlocked.Add(ref _tallies.Drained, split.Count);
                take(key, split);
            }

        if (last.Count > 0)
        {
            Interlocked.Add(ref _tallies.Drained, last.Count);
            take(key, last);
        }
    }

    /// <summary>
    /// INTERNAL API: the sum of <see cref="Count"/> buffered increments of one key, and the callers waiting for its outcome
    /// (<see cref="Waiters"/>: the newest, chained through <see cref="IWaiter.Next"/>); <see cref="Source"/> is the cell it
    /// was taken from, so that its answer finds the cell without a lookup.
    /// </summary>
    internal readonly record struct Aggregate(long Sum, long Count, IWaiter? Waiters = null, List<RequestDelta>? Requests = null, Cell? Source = null)
    {
        /// <summary>How many callers wait for this aggregate's outcome.</summary>
        public int WaiterCount()
        {
            var count = 0;
            for (var waiter = Waiters; waiter is not null; waiter = waiter.Next)
                count++;
            return count;
        }

        /// <summary>The increment the entity is sent for this aggregate: with the request ids when some increments had one.</summary>
        public ICounterCommand ToCommand(string key) => Requests is null
            ? new Increment(key, Sum)
            : new AggregatedIncrement(key, Sum, Requests.ToImmutableArray());
    }

    /// <summary>
    /// INTERNAL API: a caller of <see cref="IncrementAsync(string, long, string?)"/> waiting for the outcome of its increment.
    /// An interface, so that a lone caller's waiter can be its task's completion source itself: one object per acknowledged
    /// increment fewer.
    /// </summary>
    internal interface IWaiter
    {
        long Delta { get; }

        /// <summary>The caller added to the same aggregate before this one (set under the cell's lock, read once it is drained).</summary>
        IWaiter? Next { get; set; }

        /// <summary>Tells the caller the outcome (the first outcome counts).</summary>
        void Complete(ICounterReply reply);
    }

    /// <summary>INTERNAL API: one awaited increment with a task of its own; its continuation never runs on the ingest stage's thread.</summary>
    internal sealed class TaskWaiter(long delta)
        : TaskCompletionSource<ICounterReply>(TaskCreationOptions.RunContinuationsAsynchronously), IWaiter
    {
        public long Delta { get; } = delta;

        public IWaiter? Next { get; set; }

        public void Complete(ICounterReply reply) => TrySetResult(reply);
    }

    /// <summary>INTERNAL API: one increment of a <see cref="WaiterGroup"/>, its slot <paramref name="slot"/>.</summary>
    internal sealed class GroupWaiter(long delta, WaiterGroup group, int slot) : IWaiter
    {
        public long Delta { get; } = delta;

        public IWaiter? Next { get; set; }

        public void Complete(ICounterReply reply) => group.Set(slot, reply);
    }

    /// <summary>
    /// INTERNAL API: the outcomes of many increments with one task, completed (asynchronously) when the last one has its outcome.
    /// </summary>
    internal sealed class WaiterGroup
    {
        private readonly ICounterReply?[] _replies;
        private readonly TaskCompletionSource<ICounterReply?[]> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _remaining;

        public WaiterGroup(int count)
        {
            _replies = new ICounterReply?[count];
            _remaining = count;
            if (count == 0)
                _completion.TrySetResult(_replies);
        }

        /// <summary>Every outcome, once all are in.</summary>
        public Task<ICounterReply?[]> Task => _completion.Task;

        /// <summary>The outcome of increment <paramref name="slot"/> (the first one counts).</summary>
        public void Set(int slot, ICounterReply reply)
        {
            if (Interlocked.CompareExchange(ref _replies[slot], reply, null) is not null)
                return;
            if (Interlocked.Decrement(ref _remaining) == 0)
                _completion.TrySetResult(_replies);
        }

        /// <summary>The outcomes in so far (<c>null</c>: none yet), as a copy.</summary>
        public ICounterReply?[] Snapshot()
        {
            var copy = new ICounterReply?[_replies.Length];
            for (var i = 0; i < copy.Length; i++)
                copy[i] = Volatile.Read(ref _replies[i]);
            return copy;
        }
    }

    private sealed class Tallies
    {
        public long Drained;
        public long Delivered;
        public long Refused;
    }

    /// <summary>INTERNAL API: one key's buffered increments (its fields are the fast path's own).</summary>
    internal sealed class Cell(string key)
    {
        public readonly string Key = key;
        public long Sum;
        public long Count;
        public List<Aggregate>? Splits; // earlier aggregates, closed because adding to them overflowed (or restored)
        public IWaiter? Waiters;        // callers of IncrementAsync whose increments are in Sum, newest first
        public List<RequestDelta>? Requests; // increments in Sum sent with a request id
        public bool Retired;
        public bool Queued;             // the key is on the ready queue
        public int Touched = -1;        // the retiring period it was last taken or answered in (none yet: -1)
        public IncrementAccepted? Accepted; // the last answer made for the key (the ingest stage's thread only)
        public IngestKeyStates.KeyState? Stage; // the ingest stage's entry for the key, kept by it (its thread only)
    }
}
