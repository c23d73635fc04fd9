using Akka.Actor;
using Akka.Event;
using Akka.WriteBehind.Internal;
using Akka.WriteBehind.Queues;

namespace Akka.WriteBehind.Counters;

/// <summary>The running actors of a counter set on one node.</summary>
/// <param name="Region">The flow-controlled entry point (<see cref="CounterRegion"/>): send <see cref="ICounterCommand"/>s here.</param>
/// <param name="ShardRegion">The counter shard region behind it. Messages sent here directly bypass key validation and flow control.</param>
/// <param name="Settings">The settings in force.</param>
public sealed record CounterSet(IActorRef Region, IActorRef ShardRegion, CounterSettings Settings)
{
    /// <summary>INTERNAL API: the ingest stage's queue bookkeeping (depth, size, peaks, saturations).</summary>
    internal QueueLedger? Queue { get; init; }

    /// <summary>INTERNAL API: the set's node ledger (pending keys, persists in flight, routed increments).</summary>
    internal CounterLedger? Ledger { get; init; }

    /// <summary>The node-local fire-and-forget fast path (no actor message per increment); <c>null</c> on a set not started by
    /// <see cref="WriteBehindCounters.StartAsync"/> or <see cref="WriteBehindCounters.StartProxyAsync"/>.</summary>
    public CounterFastPath? FastPath { get; init; }

    /// <summary>
    /// Adds <paramref name="delta"/> to <paramref name="key"/> through the <see cref="FastPath"/>: buffered in this process and
    /// sent to the entity with the key's next drain (<c>ingest.aggregate-window</c>). See <see cref="CounterFastPath.Increment"/>.
    /// </summary>
    /// <param name="key">The counter's key.</param>
    /// <param name="delta">Any 64-bit value, negative included.</param>
    /// <returns><see cref="FastIncrementStatus.Buffered"/>, or why it was refused (nothing changed then).</returns>
    /// <exception cref="InvalidOperationException">The set has no fast path.</exception>
    public FastIncrementStatus Increment(string key, long delta) => FastPathOrThrow.Increment(key, delta);

    /// <summary>
    /// Adds <paramref name="delta"/> to <paramref name="key"/> and completes when the increment is durable under the set's
    /// durability — journal: persisted in the log of the key's shard; memory: taken by its entity — with
    /// <see cref="IncrementAccepted"/>, or with <see cref="CounterRejected"/> and an <see cref="ErrorCode"/> to switch on.
    /// Aggregated underneath like <see cref="Increment"/> (no actor message per increment); see <see cref="CounterFastPath.IncrementAsync(string, long, string?)"/>.
    /// </summary>
    /// <param name="key">The counter's key.</param>
    /// <param name="delta">Any 64-bit value, negative included.</param>
    /// <exception cref="InvalidOperationException">The set has no fast path.</exception>
    /// <param name="requestId">Makes the increment safe to retry (see <see cref="CounterFastPath.IncrementAsync(string, long, string?)"/>); <c>null</c>: no id.</param>
    public Task<ICounterReply> IncrementAsync(string key, long delta, string? requestId = null) => FastPathOrThrow.IncrementAsync(key, delta, requestId);

    /// <summary>
    /// Adds many increments at once, each as by <see cref="IncrementAsync(string, long, string?)"/>; completes when every one has
    /// its outcome, given in the order of <paramref name="increments"/>. Increments of one key are applied in that order.
    /// </summary>
    /// <param name="increments">The keys and deltas, each with its <see cref="Increment.RequestId"/> if it has one.</param>
    /// <exception cref="InvalidOperationException">The set has no fast path.</exception>
    public async Task<ICounterReply[]> IncrementAsync(IEnumerable<Increment> increments)
    {
        var fastPath = FastPathOrThrow;
        // one task for all of them: a continuation per increment was a thread-pool work item each
        var replies = await fastPath.Start(increments as IReadOnlyList<Increment> ?? increments.ToList()).Task.ConfigureAwait(false);
        return replies!;
    }

    /// <summary>
    /// Adds many increments at once like <see cref="IncrementAsync(IEnumerable{Increment})"/>, and waits for their outcomes at
    /// most <paramref name="timeout"/>: an increment without an outcome by then is <c>null</c> in the array (its outcome is
    /// unknown to the caller: it may still be applied). See <see cref="CounterFastPath.IncrementAsync(IReadOnlyList{Increment}, TimeSpan, CancellationToken)"/>.
    /// </summary>
    /// <param name="increments">The keys and deltas, each with its <see cref="Increment.RequestId"/> if it has one.</param>
    /// <param name="timeout">How long to wait for the outcomes at most.</param>
    /// <param name="cancellationToken">Stops the wait (the task is cancelled; the increments are not withdrawn).</param>
    /// <exception cref="InvalidOperationException">The set has no fast path.</exception>
    public Task<ICounterReply?[]> IncrementAsync(IReadOnlyList<Increment> increments, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        FastPathOrThrow.IncrementAsync(increments, timeout, cancellationToken);

    /// <summary>INTERNAL API: the node's flush-all actor (<see cref="CounterFlushAllActor"/>).</summary>
    internal IActorRef? FlushAll { get; init; }

    /// <summary>
    /// Flushes every key of the set with pending increments anywhere in the cluster: each member up flushes the keys its
    /// entities hold unstored and those buffered in its fast path and ingest stage. Completes with
    /// <see cref="AllCountersFlushed"/> once every increment acknowledged (or buffered) before the call is stored, or with
    /// <see cref="FlushAllFailed"/> (<see cref="ErrorCode.StoreFailure"/>, <see cref="ErrorCode.Timeout"/>, ...): never
    /// reports done while such an increment is unstored. Increments that arrive meanwhile may or may not be included.
    /// </summary>
    /// <param name="timeout">How long to wait for every member. <b>Default</b>: the set's <see cref="StoreWriterSettings.WriteTimeout"/>.</param>
    /// <exception cref="InvalidOperationException">The set was not started by <see cref="WriteBehindCounters.StartAsync"/> or
    /// <see cref="WriteBehindCounters.StartProxyAsync"/>.</exception>
    public async Task<IFlushAllReply> FlushAllAsync(TimeSpan? timeout = null)
    {
        var actor = FlushAll ?? throw new InvalidOperationException("this counter set has no flush-all; start it with WriteBehindCounters.StartAsync");
        var wait = timeout ?? Settings.StoreWriter.WriteTimeout;
        try
        {
            // the actor answers at its own deadline; the ask's is a backstop for a node that stops meanwhile
            return await actor.Ask<IFlushAllReply>(new FlushAllCounters(wait), wait + wait).ConfigureAwait(false);
        }
        catch (AskTimeoutException)
        {
            return new FlushAllFailed(ErrorCode.Timeout, $"no answer within {wait + wait}");
        }
    }

    private CounterFastPath FastPathOrThrow =>
        FastPath ?? throw new InvalidOperationException("this counter set has no fast path; start it with WriteBehindCounters.StartAsync");
}

/// <summary>
/// Starts write-behind counters on an actor system that is a cluster member. Akka.Hosting users call
/// <c>WithWriteBehindCounters</c> instead, which calls this.
/// </summary>
public static class WriteBehindCounters
{
    /// <summary>
    /// Initializes <paramref name="store"/>, starts the node's store writer, the counter shard region (state-store-mode ddata,
    /// hand-off through a flush-first stop message) and the ingest stage with its fast path, and registers a CoordinatedShutdown
    /// task that drains the fast path's aggregates, then the ingest stage, before the shard region hands its entities off (each flushes before it stops). With journal
    /// durability the region also holds one log per shard, and the node runs the journal sweep; the journal plugin
    /// (<c>journal.plugin-id</c>, Akka.Persistence.Sql on SQLite or PostgreSQL) must be configured —
    /// <see cref="JournalDurability.Config"/> or <see cref="JournalDurability.PostgresConfig"/> does it.
    /// </summary>
    /// <param name="system">An actor system with <c>akka.actor.provider = cluster</c>.</param>
    /// <param name="store">Where counters are written behind to. A library store (<see cref="ICounterTableStore"/>) is moved to
    /// the set's table (<see cref="CounterSettings.TableName"/>); a store of your own must keep the rows of two sets apart itself.</param>
    /// <param name="settings">The settings; <b>Default</b>: read from <c>akka.write-behind.counters</c> with the library defaults as fallback.</param>
    /// <param name="role">The cluster role of the members that host the set's entities (as <c>ShardOptions.Role</c>): on a
    /// member without it the region only routes, and no entity of the set lives there. <b>Default</b>: <c>null</c>, every
    /// member (or <c>akka.cluster.sharding.role</c>).</param>
    /// <exception cref="DuplicateSetException">A set with <see cref="CounterSettings.TypeName"/> was already started on
    /// <paramref name="system"/>.</exception>
    public static Task<CounterSet> StartAsync(ActorSystem system, ICounterStore store, CounterSettings? settings = null,
        string? role = null) =>
        StartSetAsync(system, store, settings ?? CounterSettings.Create(system), role, key: null);

    /// <summary>
    /// Starts a set that hosts no entity on this node: the fast path and the ingest stage aggregate and flow-control this
    /// node's increments as on a hosting node, then hand them to a shard region proxy that routes them to the set's entities
    /// on the members with <paramref name="role"/>. No store writer, journal or sweep runs here; those members run them.
    /// <see cref="CounterSet.FlushAllAsync"/> works from here (it drains this node's fast path and ingest stage too).
    /// </summary>
    /// <param name="system">An actor system with <c>akka.actor.provider = cluster</c>.</param>
    /// <param name="settings">The settings; the type name and <see cref="CounterSettings.NumberOfShards"/> must be those of
    /// the hosting members. <b>Default</b>: read from <c>akka.write-behind.counters</c>.</param>
    /// <param name="role">The role of the members that host the set (<c>null</c>: any member).</param>
    /// <exception cref="DuplicateSetException">A set with <see cref="CounterSettings.TypeName"/> was already started on
    /// <paramref name="system"/>.</exception>
    public static Task<CounterSet> StartProxyAsync(ActorSystem system, CounterSettings? settings = null, string? role = null) =>
        StartProxySetAsync(system, settings ?? CounterSettings.Create(system), role, key: null);

    /// <summary>INTERNAL API: <see cref="StartAsync"/> under a registry key (see <see cref="CounterSets.Get{TKey}"/>).</summary>
    internal static Task<CounterSet> StartSetAsync(ActorSystem system, ICounterStore store, CounterSettings settings, string? role,
        Type? key) =>
        CounterSets.Get(system).StartAsync(settings.TypeName, key, () => StartHostingAsync(system, store, settings, role));

    /// <summary>INTERNAL API: <see cref="StartProxyAsync"/> under a registry key.</summary>
    internal static Task<CounterSet> StartProxySetAsync(ActorSystem system, CounterSettings settings, string? role, Type? key) =>
        CounterSets.Get(system).StartAsync(settings.TypeName, key, async () =>
        {
            var proxy = await EntityRegions.StartProxyAsync(system, settings.TypeName, role, settings.NumberOfShards,
                new CounterMessageExtractor(settings.NumberOfShards)).ConfigureAwait(false);
            var ledger = new CounterLedger(settings.TypeName) { Live = new CounterLiveEntities(settings.MaxLiveEntities) };
            return StartFront(system, proxy, settings, ledger);
        });

    private static async Task<CounterSet> StartHostingAsync(ActorSystem system, ICounterStore store, CounterSettings settings,
        string? role)
    {
        // each set writes its own table, so that sets sharing a database never share rows
        if (store is ICounterTableStore tables)
            store = tables.WithTable(settings.TableName);
        await store.InitializeAsync().ConfigureAwait(false);

        var ledger = new CounterLedger(settings.TypeName) { Live = new CounterLiveEntities(settings.MaxLiveEntities) };
        var writer = system.ActorOf(CounterStoreWriterActor.Props(store, settings, ledger), $"{settings.TypeName}-store-writer");

        JournalTable? journalTable = null;
        if (settings.Durability == CounterDurability.Journal)
        {
            journalTable = JournalTable.TryFromConfig(system.Settings.Config, settings.Journal.PluginId, out var why);
            if (journalTable is null)
                system.Log.Warning("Counter set {0}: no journal sweep ({1}); keys with journaled increments are written when next touched",
                    settings.TypeName, why);
            else
            {
                await journalTable.PrepareAsync().ConfigureAwait(false);
                // nodes starting together create the journal's tables one at a time
                if (!await journalTable.InitializeJournalAsync(system, settings.Journal.PluginId, settings.StoreWriter.WriteTimeout).ConfigureAwait(false))
                    system.Log.Warning("Counter set {0}: journal {1} did not initialize within {2}; it keeps trying on its own",
                        settings.TypeName, settings.Journal.PluginId, settings.StoreWriter.WriteTimeout);
            }
        }

        // journal durability: the shard logs are entities of the same region (see CounterMessageExtractor), whose events
        // the node's journal writer carries to the journal together
        var journalWriter = settings.Durability == CounterDurability.Journal
            ? system.ActorOf(ShardJournalWriterActor.Props(settings.Journal.PluginId, ledger.JournalFailures), $"{settings.TypeName}-journal-writer")
            : ActorRefs.Nobody;
        var extractor = new CounterMessageExtractor(settings.NumberOfShards);
        var region = await EntityRegions.StartAsync(system, settings.TypeName,
            id => ShardJournalActor.TryShardOf(id, out var shardId)
                ? ShardJournalActor.Props(shardId, settings, ledger, journalWriter)
                : CounterActor.Props(id, settings, writer, ledger, extractor.ShardOfKey(id)),
            settings.NumberOfShards, settings.PassivateIdleAfter, StopCounter.Instance, extractor, role).ConfigureAwait(false);
        if (journalTable is not null)
            system.ActorOf(CounterJournalSweeperActor.Props(region, settings, journalTable, ledger.JournalFailures),
                $"{settings.TypeName}-journal-sweeper");
        return StartFront(system, region, settings, ledger);
    }

    // the node-local parts in front of a region, hosting or proxy: fast path, ingest stage, its drain on shutdown, flush-all
    private static CounterSet StartFront(ActorSystem system, IActorRef region, CounterSettings settings, CounterLedger ledger)
    {
        CounterMetrics.Register(ledger);
        system.RegisterOnTermination(() => CounterMetrics.Unregister(ledger));

        var queueLedger = new QueueLedger(settings.TypeName, settings.Ingest.MaxActiveKeys);
        InflightMetrics.Register(queueLedger);
        system.RegisterOnTermination(() => InflightMetrics.Unregister(queueLedger));
        var fastPath = new CounterFastPath(settings.Ingest.FastPathMaxKeys, CounterFastPath.RetireEveryFor(settings.Ingest.AggregateWindow));
        var ingest = system.ActorOf(CounterIngestActor.Props(region, settings, ledger, queueLedger, fastPath), $"{settings.TypeName}-ingest");
        fastPath.Wake = () => ingest.Tell(DrainAggregatesNow.Instance, ActorRefs.NoSender);

        CoordinatedShutdown.Get(system).AddTask(CoordinatedShutdown.PhaseBeforeClusterShutdown, $"{settings.TypeName}-drain-ingest", async () =>
        {
            try
            {
                await ingest.Ask<CounterIngestDrained>(DrainCounterIngest.Instance, settings.Ingest.DrainTimeout).ConfigureAwait(false);
            }
            catch (AskTimeoutException)
            {
                system.Log.Warning("Counter ingest stage {0} did not drain within {1}", settings.TypeName, settings.Ingest.DrainTimeout);
            }

            return Done.Instance;
        });

        var flushAll = system.ActorOf(CounterFlushAllActor.Props(ingest, ledger, settings), CounterFlushAllActor.NameOf(settings));

        return new CounterSet(ingest, region, settings) { Queue = queueLedger, Ledger = ledger, FastPath = fastPath, FlushAll = flushAll };
    }
}
