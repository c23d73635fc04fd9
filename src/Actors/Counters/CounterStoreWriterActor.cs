using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using Akka.Actor;
using Akka.Event;
using Akka.Streams;
using Akka.WriteBehind.Internal;

namespace Akka.WriteBehind.Counters;

/// <summary>
/// INTERNAL API
/// <para>
/// The node-local store writer of a counter set. Writes and loads from entities go into bounded channels that feed two
/// Akka.Streams pipelines: groups of at most <c>batch-size</c> (<see cref="Internal.GroupedChannel"/>: what queued while every
/// slot was busy, or what joined within <c>batch-delay</c>) then <c>SelectAsync(parallelism)</c> calling the store once per group (one transaction for many keys); each entity is told its outcome. A full channel is answered at once with
/// a failure, which the entity retries with back-off: nothing waits unbounded and nothing is dropped.
/// </para>
/// </summary>
internal sealed class CounterStoreWriterActor : ReceiveActor, IWithTimers
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private long _transactions; // numbers the store transactions, for the logs (StoreBatch)
    private readonly ICounterStore _store;
    private readonly CounterSettings _settings;
    private readonly KeyValuePair<string, object?>[] _ok;
    private readonly KeyValuePair<string, object?>[] _failed;
    private ChannelWriter<(CounterWrite Write, IActorRef ReplyTo)> _writes = null!;
    private ChannelWriter<(string Key, IActorRef ReplyTo)> _loads = null!;
    private IActorRef _self = ActorRefs.Nobody; // for the stream's answers (Self is only valid inside a receive)
    // keys with writes not answered yet, and loads of those keys held until they are: an entity that stopped with a write in
    // flight (killed, or failed) must not have its next one read the row before that write, or the next one starts from a
    // row without the write while its shard log hands it the write's deltas, and they are stored twice
    private readonly Dictionary<string, int> _writing = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<IActorRef>> _heldLoads = new(StringComparer.Ordinal);
    private readonly FailureStreak _failures = new(); // writes and reads alike: an outage fails both
    private readonly CounterLedger _ledger;

    public CounterStoreWriterActor(ICounterStore store, CounterSettings settings, CounterLedger ledger)
    {
        _store = store;
        _ledger = ledger;
        _settings = settings;
        _ok = [ledger.Tag, new("outcome", "ok")];
        _failed = [ledger.Tag, new("outcome", "failed")];

        Receive<WriteCounter>(msg =>
        {
            if (!_writes.TryWrite((msg.Write, Sender)))
            {
                Sender.Tell(new CounterWriteFailed(msg.Write.Key, msg.Write.Seq,
                    $"store writer queue is full ({_settings.StoreWriter.BufferSize} writes); retrying"));
                return;
            }

            CollectionsMarshal.GetValueRefOrAddDefault(_writing, msg.Write.Key, out _)++;
        });

        Receive<LoadCounter>(msg =>
        {
            if (_writing.ContainsKey(msg.Key))
            {
                if (!_heldLoads.TryGetValue(msg.Key, out var held))
                    _heldLoads[msg.Key] = held = new List<IActorRef>(1);
                held.Add(Sender);
                return;
            }

            Load(msg.Key, Sender);
        });

        Receive<WritesAnswered>(answered =>
        {
            foreach (var write in answered.Batch)
            {
                ref var count = ref CollectionsMarshal.GetValueRefOrNullRef(_writing, write.Write.Key);
                if (Unsafe.IsNullRef(ref count) || --count > 0)
                    continue;
                _writing.Remove(write.Write.Key);
                if (!_heldLoads.Remove(write.Write.Key, out var held))
                    continue;
                foreach (var replyTo in held)
                    Load(write.Write.Key, replyTo);
            }
        });

        Receive<CleanupTick>(_ =>
        {
            // expired request ids are forgotten; a failure only postpones it to the next tick
            var log = _log;
            _store.DeleteExpiredRequestsAsync(DateTimeOffset.UtcNow).ContinueWith(t =>
            {
                if (t.IsFaulted)
                    log.Warning(t.Exception!.GetBaseException(), "Deleting expired counter request ids failed; retrying at the next cleanup");
            }, TaskContinuationOptions.ExecuteSynchronously);
        });

        Receive<Status.Failure>(failure =>
            throw new InvalidOperationException("Counter store writer stream failed; restarting it.", failure.Cause));
    }

    public static Props Props(ICounterStore store, CounterSettings settings, CounterLedger ledger) =>
        Akka.Actor.Props.Create(() => new CounterStoreWriterActor(store, settings, ledger));

    public ITimerScheduler Timers { get; set; } = null!;

    private void Load(string key, IActorRef replyTo)
    {
        if (!_loads.TryWrite((key, replyTo)))
            replyTo.Tell(new CounterLoadFailed(key, $"store writer queue is full ({_settings.StoreWriter.BufferSize} loads); retrying"));
    }

    protected override void PreStart()
    {
        _self = Self;
        Timers.StartPeriodicTimer(CleanupTick.Instance, CleanupTick.Instance, _settings.Idempotency.CleanupInterval);
        var materializer = Context.Materializer();
        _writes = GroupedChannel.Start<(CounterWrite, IActorRef)>(materializer, Self, _settings.StoreWriter.BufferSize,
            _settings.StoreWriter.BatchSize, _settings.StoreWriter.BatchDelay, _settings.StoreWriter.Parallelism, ApplyAsync, "write");
        _loads = GroupedChannel.Start<(string, IActorRef)>(materializer, Self, _settings.StoreWriter.BufferSize,
            _settings.StoreWriter.BatchSize, _settings.StoreWriter.BatchDelay, _settings.StoreWriter.Parallelism, ReadAsync, "load");
    }

    protected override void PostStop()
    {
        _writes.TryComplete();
        _loads.TryComplete();
    }

    // Runs inside the stream: touches no actor state, only tells the entities (thread-safe).
    private async Task<Done> ApplyAsync((CounterWrite Write, IActorRef ReplyTo)[] batch)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var transaction = Interlocked.Increment(ref _transactions);
        try
        {
            var stored = await _store.ApplyAsync(batch.Select(e => e.Write).ToArray()).ConfigureAwait(false);
            _failures.Succeeded(_log, "Counter store");
            _ledger.StoreAnswered();
            CounterMetrics.Batches.Add(1, _ok);
            CounterMetrics.RowsWritten.Add(batch.Length, _ok[0]);
            CounterMetrics.BatchDuration.Record(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds, _ok);
            foreach (var (write, replyTo) in batch)
            {
                replyTo.Tell(stored.TryGetValue(write.Key, out var row)
                    ? new CounterWritten(write.Key, write.Seq, row)
                    : new CounterWriteFailed(write.Key, write.Seq, "store did not return the row after the write"));
            }
        }
        catch (Exception ex)
        {
            // the failure is not hidden: every entity of the batch is told, keeps its delta and retries
            CounterMetrics.Batches.Add(1, _failed);
            CounterMetrics.BatchDuration.Record(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds, _failed);
            var reason = $"{ex.GetType().Name}: {ex.Message}";
            if (_failures.Failed())
                _log.Warning(ex, "Counter store write {StoreBatch} of {BatchSize} keys ({Keys}) failed; the entities keep their deltas and retry " +
                    "(further failed reads and writes are logged at debug level until one succeeds)", transaction, batch.Length, KeySample(batch.Select(e => e.Write.Key)));
            else
                _log.Debug("Counter store write {StoreBatch} of {BatchSize} keys ({Keys}) failed: {Reason}", transaction, batch.Length,
                    KeySample(batch.Select(e => e.Write.Key)), reason);
            foreach (var (write, replyTo) in batch)
                replyTo.Tell(new CounterWriteFailed(write.Key, write.Seq, reason));
        }

        _self.Tell(new WritesAnswered(batch));
        return Done.Instance;
    }

    /// <summary>The first keys of a batch, for a log line: the keys are the identifiers an operator searches for.</summary>
    private static string KeySample(IEnumerable<string> keys)
    {
        const int shown = 10;
        var list = keys.Take(shown + 1).ToList();
        return list.Count > shown ? string.Join(", ", list.Take(shown)) + ", ..." : string.Join(", ", list);
    }

    private async Task<Done> ReadAsync((string Key, IActorRef ReplyTo)[] batch)
    {
        try
        {
            var stored = await _store.ReadAsync(batch.Select(e => e.Key).ToArray()).ConfigureAwait(false);
            _failures.Succeeded(_log, "Counter store");
            _ledger.StoreAnswered();
            foreach (var (key, replyTo) in batch)
                replyTo.Tell(new CounterLoaded(key, stored.GetValueOrDefault(key, StoredCounter.Empty)));
        }
        catch (Exception ex)
        {
            var reason = $"{ex.GetType().Name}: {ex.Message}";
            if (_failures.Failed())
                _log.Warning(ex, "Counter store read of {BatchSize} keys ({Keys}) failed; the entities retry " +
                    "(further failed reads and writes are logged at debug level until one succeeds)", batch.Length, KeySample(batch.Select(e => e.Key)));
            else
                _log.Debug("Counter store read of {BatchSize} keys ({Keys}) failed: {Reason}", batch.Length, KeySample(batch.Select(e => e.Key)), reason);
            foreach (var (key, replyTo) in batch)
                replyTo.Tell(new CounterLoadFailed(key, reason));
        }

        return Done.Instance;
    }

    /// <summary>The stream answered every write of <see cref="Batch"/>.</summary>
    private sealed record WritesAnswered((CounterWrite Write, IActorRef ReplyTo)[] Batch);

    private sealed class CleanupTick
    {
        public static readonly CleanupTick Instance = new();

        private CleanupTick()
        {
        }
    }
}
