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
/// <para>
/// The order is a clock (second chance): a touch only marks the entity used (a new one starts marked), without a lock, because every command of
/// every entity touches it and a shared list reordered under a lock per command cost the acknowledged path a few percent
/// of its CPU. An eviction walks from the oldest: a marked entity loses its mark and goes to the back, the first unmarked
/// one is evicted.
/// </para>
/// </summary>
internal sealed class CounterLiveEntities
{
    private readonly object _lock = new();
    private readonly LinkedList<Entity> _order = new(); // first: the oldest (evicted entities leave the list)
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

    /// <summary>A started entity, the newest. Beyond the limit evicts the oldest entities not used since the last lap met them.</summary>
    /// <returns>The entity's place, for <see cref="Touch"/> and <see cref="Stopped"/>.</returns>
    public Entity Started(IActorRef entity)
    {
        Interlocked.Increment(ref _live);
        var started = new Entity(entity);
        List<IActorRef>? victims = null;
        lock (_lock)
        {
            _order.AddLast(started.Node);
            // second chances are bounded by one lap, so that entities touched again meanwhile cannot keep the lock held
            var chances = _order.Count;
            while (_limit > 0 && _order.Count > _limit)
            {
                var oldest = _order.First!;
                _order.RemoveFirst();
                if (chances-- > 0 && Volatile.Read(ref oldest.Value.Used) != 0)
                {
                    Volatile.Write(ref oldest.Value.Used, 0);
                    _order.AddLast(oldest);
                    continue;
                }

                (victims ??= new List<IActorRef>()).Add(oldest.Value.Ref);
            }
        }

        if (victims is not null)
        {
            Interlocked.Add(ref _evictions, victims.Count);
            foreach (var victim in victims)
                victim.Tell(EvictCounter.Instance);
        }

        return started;
    }

    /// <summary>The entity took a command: it counts as recently used at the next eviction.</summary>
    public void Touch(Entity entity)
    {
        // read first: a write per command to a line every eviction reads would be paid by every command
        if (_limit != 0 && entity.Used == 0)
            Volatile.Write(ref entity.Used, 1);
    }

    /// <summary>The entity stopped.</summary>
    public void Stopped(Entity entity)
    {
        Interlocked.Decrement(ref _live);
        lock (_lock)
        {
            if (entity.Node.List is not null)
                _order.Remove(entity.Node);
        }
    }

    /// <summary>A live entity's place in the order and its mark of use since the last eviction pass.</summary>
    internal sealed class Entity
    {
        public Entity(IActorRef entity)
        {
            Ref = entity;
            Node = new LinkedListNode<Entity>(this);
        }

        public IActorRef Ref { get; }

        public LinkedListNode<Entity> Node { get; }

        // 1: started or touched since the last pass of an eviction met it. A new entity starts marked: its first command
        // follows at once, and unmarked it would be the first victim of a lap that found every older entity marked
        public int Used = 1;
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
