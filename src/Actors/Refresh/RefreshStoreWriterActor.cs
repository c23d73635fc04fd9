using System.Diagnostics;
using System.Threading.Channels;
using Akka.Actor;
using Akka.Event;
using Akka.Streams;
using Akka.WriteBehind.Internal;

namespace Akka.WriteBehind.Refresh;

/// <summary>
/// INTERNAL API
/// <para>
/// The node-local store writer of a refresh cache. Item writes (<see cref="WriteItem"/>) go into a bounded channel feeding an
/// Akka.Streams pipeline: groups of at most <c>store-writer.batch-size</c> (<see cref="Internal.GroupedChannel"/>) then
/// <c>SelectAsync(store-writer.parallelism)</c> calling <see cref="IRefreshItemStore.ApplyAsync"/> once per group (one
/// transaction for many items), on the thread pool so that a synchronous provider (Microsoft.Data.Sqlite) never blocks an
/// actor thread. Each entity is told its outcome; a failed group fails the writes of its items only. A full channel is
/// answered at once with <see cref="ItemWriteFailed"/>, which the entity retries with back-off: nothing waits unbounded and
/// nothing is dropped. A write that waited in the channel longer than half of <c>store-writer.write-timeout</c> is answered
/// failed instead of applied (its entity may have given up on it and sent a newer state).
/// </para>
/// </summary>
internal sealed class RefreshStoreWriterActor : ReceiveActor
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly IRefreshItemStore _store;
    private readonly RefreshSettings _settings;
    private long _transactions; // numbers the store transactions, for the logs
    private readonly FailureStreak _failures = new();
    private ChannelWriter<(WriteItem Write, IActorRef ReplyTo, long Queued)> _writes = null!;

    public RefreshStoreWriterActor(IRefreshItemStore store, RefreshSettings settings)
    {
        _store = store;
        _settings = settings;

        Receive<WriteItem>(msg =>
        {
            if (!_writes.TryWrite((msg, Sender, Stopwatch.GetTimestamp())))
                Sender.Tell(new ItemWriteFailed(msg.Write.Id, msg.Version,
                    $"the node's refresh store writer queue is full ({_settings.StoreWriter.BufferSize} writes, store-writer.buffer-size)"));
        });

        Receive<Status.Failure>(failure =>
            throw new InvalidOperationException("Refresh store writer stream failed; restarting it.", failure.Cause));
    }

    public static Props Props(IRefreshItemStore store, RefreshSettings settings) =>
        Akka.Actor.Props.Create(() => new RefreshStoreWriterActor(store, settings));

    protected override void PreStart()
    {
        _writes = GroupedChannel.Start<(WriteItem, IActorRef, long)>(Context.Materializer(), Self, _settings.StoreWriter.BufferSize,
            _settings.StoreWriter.BatchSize, _settings.StoreWriter.BatchDelay, _settings.StoreWriter.Parallelism, ApplyAsync, "write");
    }

    protected override void PostStop() => _writes.TryComplete();

    // Runs inside the stream: touches no actor state, only tells the entities (thread-safe).
    private async Task<Done> ApplyAsync((WriteItem Write, IActorRef ReplyTo, long Queued)[] queued)
    {
        // A write queued longer than half the entity's write-timeout is not applied: its entity may have given up on it and
        // sent a newer state, which this older one must not overwrite. The entity retries it (or ignores the answer).
        var maxWait = _settings.StoreWriter.WriteTimeout / 2;
        var group = new List<(WriteItem Write, IActorRef ReplyTo)>(queued.Length);
        foreach (var (write, replyTo, at) in queued)
        {
            if (Stopwatch.GetElapsedTime(at) <= maxWait)
                group.Add((write, replyTo));
            else
                replyTo.Tell(new ItemWriteFailed(write.Write.Id, write.Version, $"waited longer than {maxWait} in the store writer's queue"));
        }

        if (group.Count == 0)
            return Done.Instance;

        var transaction = Interlocked.Increment(ref _transactions);
        try
        {
            var writes = group.Select(e => e.Write.Write).ToArray();
            await Task.Run(() => _store.ApplyAsync(writes)).ConfigureAwait(false);
            _failures.Succeeded(_log, "Refresh store");
            foreach (var (write, replyTo) in group)
                replyTo.Tell(new ItemWritten(write.Write.Id, write.Version));
        }
        catch (Exception e)
        {
            // not hidden: every entity of the group is told, keeps its change and retries
            var reason = $"{e.GetType().Name}: {e.GetBaseException().Message}";
            if (_failures.Failed())
                _log.Warning(e, "Refresh store write {0} of {1} items ({2}) failed; the items keep their changes and retry " +
                    "(further failed writes are logged at debug level until one succeeds)", transaction, group.Count, IdSample(group.Select(g => g.Write.Write.Id)));
            else
                _log.Debug("Refresh store write {0} of {1} items ({2}) failed: {3}", transaction, group.Count, IdSample(group.Select(g => g.Write.Write.Id)), reason);
            foreach (var (write, replyTo) in group)
                replyTo.Tell(new ItemWriteFailed(write.Write.Id, write.Version, reason));
        }

        return Done.Instance;
    }

    /// <summary>The first ids of a group, for a log line: the ids are what an operator searches for.</summary>
    private static string IdSample(IEnumerable<string> ids)
    {
        const int shown = 10;
        var list = ids.Take(shown + 1).ToList();
        return list.Count > shown ? string.Join(", ", list.Take(shown)) + ", ..." : string.Join(", ", list);
    }
}
