using Akka.Actor;

namespace Akka.WriteBehind.Counters;

/// <summary>
/// INTERNAL API
/// <para>
/// The node's least-recently-used bound on live counter entities of one set (<c>max-live-entities</c>); Akka.NET 1.5.73's
/// sharding passivates only idle entities. Entities register when they start, are touched by every command and leave when
/// they stop. Once more than the limit are registered, the least recently used are told <see cref="EvictCounter"/>: each
/// asks its shard to passivate it and, like on hand-off, flushes before it stops. Entities on their way out count as live
/// until they stop (that is the slack above the limit), but are never told twice.
/// </para>
/// </summary>
internal sealed class CounterLiveEntities
{
    private readonly object _lock = new();
    private readonly LinkedList<IActorRef> _lru = new(); // first: least recently used; evicted entities leave the list
    private readonly int _limit;
    private int _live;
    private long _evictions;

    /// <param name="limit">Entities kept at most before the least recently used is evicted; 0 = no limit.</param>
    public CounterLiveEntities(int limit) => _limit = limit;

    /// <summary>Entities started and not yet stopped on this node (those being evicted included).</summary>
    public int Live => Volatile.Read(ref _live);

    /// <summary>
    /// How many more entities the node can start before those on their way out (waiting for their flushes) exceed the limit
    /// again: twice the limit minus the live ones (no limit: unbounded). The ingest stage starts no more new work from the
    /// fast path than this per drain, so a flood of new keys faster than the store can take their writes waits (and then
    /// is refused as saturated) instead of growing the node.
    /// </summary>
    public long Headroom => _limit == 0 ? long.MaxValue : Math.Max(0, 2L * _limit - Live);

    /// <summary>Entities told to passivate because of the limit, since the start.</summary>
    public long Evictions => Interlocked.Read(ref _evictions);

    /// <summary>A started entity: now the most recently used. Evicts the least recently used beyond the limit.</summary>
    /// <returns>The entity's place, for <see cref="Touch"/> and <see cref="Stopped"/>.</returns>
    public LinkedListNode<IActorRef> Started(IActorRef entity)
    {
        Interlocked.Increment(ref _live);
        var node = new LinkedListNode<IActorRef>(entity);
        List<IActorRef>? victims = null;
        lock (_lock)
        {
            _lru.AddLast(node);
            while (_limit > 0 && _lru.Count > _limit)
            {
                var victim = _lru.First!;
                _lru.RemoveFirst();
                (victims ??= new List<IActorRef>()).Add(victim.Value);
            }
        }

        if (victims is not null)
        {
            Interlocked.Add(ref _evictions, victims.Count);
            foreach (var victim in victims)
                victim.Tell(EvictCounter.Instance);
        }

        return node;
    }

    /// <summary>The entity took a command: it becomes the most recently used (unless it is being evicted already).</summary>
    public void Touch(LinkedListNode<IActorRef> node)
    {
        if (_limit == 0)
            return;
        lock (_lock)
        {
            if (node.List is null || node == _lru.Last)
                return;
            _lru.Remove(node);
            _lru.AddLast(node);
        }
    }

    /// <summary>The entity stopped.</summary>
    public void Stopped(LinkedListNode<IActorRef> node)
    {
        Interlocked.Decrement(ref _live);
        lock (_lock)
        {
            if (node.List is not null)
                _lru.Remove(node);
        }
    }
}

/// <summary>INTERNAL API: the node holds too many live counters and this one is the least recently used: passivate (flushing first).</summary>
internal sealed class EvictCounter
{
    public static readonly EvictCounter Instance = new();

    private EvictCounter()
    {
    }
}
