using System.Diagnostics;
using System.Threading.Channels;
using Akka.Actor;
using Akka.Event;
using Akka.Streams;
using Akka.WriteBehind.Internal;

namespace Akka.WriteBehind.Batches;

/// <summary>
/// INTERNAL API
/// <para>
/// The node-local store writer of a batch resource type whose store implements <see cref="IBulkResourceStore{TResource}"/>:
/// saves from the node's batch entities go into a bounded channel feeding an Akka.Streams pipeline,
/// groups of at most <c>save-many.max-keys</c> (<see cref="Internal.GroupedChannel"/>: what queued while every slot was busy,
/// or what joined within <c>save-many.max-delay</c>) then <c>SelectAsync(save-many.parallelism)</c>, which saves each group with one <see cref="IBulkResourceStore{TResource}.SaveManyAsync"/> call and tells each entity its outcome; loads go
/// through a second pipeline of the same shape into <see cref="IBulkResourceStore{TResource}.LoadManyAsync"/>. A full
/// channel is answered at once with a failure. A group's cancellation token fires at the earliest max-duration deadline of
/// the group, so no key's save commits after its callers were told it failed. A store that keeps request ids
/// (<see cref="IIdempotentResourceStore{TResource}"/>) gets each batch's request ids with its save, in the same call.
/// </para>
/// </summary>
internal sealed class ResourceStoreWriterActor<TResource> : ReceiveActor where TResource : notnull
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly FailureStreak _failures = new(); // loads and saves alike: an outage fails both
    private readonly string _storeName; // for the line that ends a run of failures
    private static readonly IReadOnlyDictionary<string, IReadOnlyList<RememberedRequest>> NoRequests =
        new Dictionary<string, IReadOnlyList<RememberedRequest>>();

    private readonly IBulkResourceStore<TResource> _store;
    private readonly IIdempotentResourceStore<TResource>? _requests; // the same store, when it keeps request ids
    private readonly BatchSettings _settings;
    private ChannelWriter<(SaveResource<TResource> Save, IActorRef ReplyTo)> _saves = null!;
    private ChannelWriter<(LoadResource Load, IActorRef ReplyTo)> _loads = null!;

    public ResourceStoreWriterActor(IBulkResourceStore<TResource> store, BatchSettings settings)
    {
        _store = store;
        _requests = store as IIdempotentResourceStore<TResource>;
        _settings = settings;
        _storeName = $"The resource store of {settings.TypeName}";

        Receive<SaveResource<TResource>>(save =>
        {
            if (!_saves.TryWrite((save, Sender)))
                Sender.Tell(new ResourceSaveFailed(save.BatchId, $"the node's save queue is full ({_settings.SaveMany.BufferSize} saves)", false));
        });

        Receive<LoadResource>(load =>
        {
            if (!_loads.TryWrite((load, Sender)))
                Sender.Tell(new ResourceLoadFailed(load.BatchId, $"the node's load queue is full ({_settings.SaveMany.BufferSize} loads)", TimeSpan.Zero, false));
        });

        Receive<Status.Failure>(failure =>
            throw new InvalidOperationException($"Save writer stream of {_settings.TypeName} failed; restarting it.", failure.Cause));
    }

    public static Props Props(IBulkResourceStore<TResource> store, BatchSettings settings) =>
        Akka.Actor.Props.Create(() => new ResourceStoreWriterActor<TResource>(store, settings));

    protected override void PreStart()
    {
        var materializer = Context.Materializer();
        _saves = GroupedChannel.Start<(SaveResource<TResource>, IActorRef)>(materializer, Self, _settings.SaveMany.BufferSize,
            _settings.SaveMany.MaxKeys, _settings.SaveMany.MaxDelay, _settings.SaveMany.Parallelism, SaveAsync, "save");
        _loads = GroupedChannel.Start<(LoadResource, IActorRef)>(materializer, Self, _settings.SaveMany.BufferSize,
            _settings.SaveMany.MaxKeys, _settings.SaveMany.MaxDelay, _settings.SaveMany.Parallelism, LoadAsync, "load");
    }

    protected override void PostStop()
    {
        _saves.TryComplete();
        _loads.TryComplete();
    }

    /// <summary>
    /// A load or save failed; every entity of the group is told. Only the first failure since a call last succeeded is
    /// logged with its cause: in an outage every call fails alike.
    /// </summary>
    private void StoreFailed(Exception cause, string reason, string what)
    {
        if (_failures.Failed())
            _log.Warning(cause, "{0} (further failed loads and saves are logged at debug level until one succeeds)", what);
        else
            _log.Debug("{0}: {1}", what, reason);
    }

    // Runs inside the stream: touches no actor state, only tells the entities (thread-safe).
    private async Task<Done> LoadAsync((LoadResource Load, IActorRef ReplyTo)[] group)
    {
        var started = Stopwatch.GetTimestamp();
        var live = new List<(LoadResource Load, IActorRef ReplyTo)>(group.Length);
        foreach (var entry in group)
        {
            if (entry.Load.Deadline > started)
                live.Add(entry);
            else
                entry.ReplyTo.Tell(new ResourceLoadFailed(entry.Load.BatchId, "max-duration passed before the load started", TimeSpan.Zero, true));
        }

        if (live.Count == 0)
            return Done.Instance;

        using var cancel = new CancellationTokenSource(Stopwatch.GetElapsedTime(started, live.Min(e => e.Load.Deadline)));
        try
        {
            // a key can be here twice only when its earlier load passed max-duration and a new batch asked again
            var keys = live.Select(e => e.Load.Key).Distinct(StringComparer.Ordinal).ToArray();
            var requestKeys = _requests is null
                ? []
                : live.Where(e => e.Load.WithRequests).Select(e => e.Load.Key).Distinct(StringComparer.Ordinal).ToArray();
            var (loaded, requests) = await Task.Run(async () =>
            {
                var resources = await _store.LoadManyAsync(keys, cancel.Token).ConfigureAwait(false);
                // only an entity's first load asks: afterwards it is the single writer of its key's requests
                var remembered = requestKeys.Length == 0
                    ? NoRequests
                    : await _requests!.LoadRequestsAsync(requestKeys, DateTime.UtcNow - _settings.Idempotency.Window, cancel.Token).ConfigureAwait(false);
                return (resources, remembered);
            }, cancel.Token).ConfigureAwait(false);
            _failures.Succeeded(_log, _storeName);
            var duration = Stopwatch.GetElapsedTime(started);
            foreach (var (load, replyTo) in live)
            {
                replyTo.Tell(loaded.TryGetValue(load.Key, out var resource) && resource is not null
                    ? new ResourceLoaded<TResource>(load.BatchId, resource, duration)
                    {
                        Requests = load.WithRequests && _requests is not null ? requests.GetValueOrDefault(load.Key, []) : null,
                    }
                    : new ResourceLoadFailed(load.BatchId, "the store returned no resource for the key", duration, false));
            }
        }
        catch (Exception e)
        {
            // not hidden: every entity of the group is told and answers its callers with it
            var reason = e is OperationCanceledException ? "cancelled at max-duration" : $"{e.GetType().Name}: {e.Message}";
            StoreFailed(e, reason, $"Loading {live.Count} resources of {_settings.TypeName} in one call failed");
            var duration = Stopwatch.GetElapsedTime(started);
            foreach (var (load, replyTo) in live)
                replyTo.Tell(new ResourceLoadFailed(load.BatchId, reason, duration, cancel.IsCancellationRequested));
        }

        return Done.Instance;
    }

    // Runs inside the stream: touches no actor state, only tells the entities (thread-safe).
    private async Task<Done> SaveAsync((SaveResource<TResource> Save, IActorRef ReplyTo)[] group)
    {
        var now = Stopwatch.GetTimestamp();
        var live = new List<(SaveResource<TResource> Save, IActorRef ReplyTo)>(group.Length);
        foreach (var entry in group)
        {
            if (entry.Save.Deadline > now)
                live.Add(entry);
            else
                entry.ReplyTo.Tell(new ResourceSaveFailed(entry.Save.BatchId, "max-duration passed before the save started", true));
        }

        if (live.Count == 0)
            return Done.Instance;

        using var cancel = new CancellationTokenSource(Stopwatch.GetElapsedTime(now, live.Min(e => e.Save.Deadline)));
        try
        {
            var resources = live.ToDictionary(e => e.Save.Key, e => e.Save.Resource, StringComparer.Ordinal);
            var stored = await Task.Run(() =>
            {
                if (_requests is null)
                    return _store.SaveManyAsync(resources, cancel.Token);
                var requests = live.SelectMany(e => e.Save.Requests.Select(r => KeyValuePair.Create(e.Save.Key, r))).ToArray();
                return _requests.SaveManyWithRequestsAsync(resources, requests, DateTime.UtcNow - _settings.Idempotency.Window, cancel.Token);
            }, cancel.Token).ConfigureAwait(false);
            _failures.Succeeded(_log, _storeName);
            foreach (var (save, replyTo) in live)
            {
                replyTo.Tell(stored.TryGetValue(save.Key, out var resource) && resource is not null
                    ? new ResourceSaved<TResource>(save.BatchId, resource)
                    : new ResourceSaveFailed(save.BatchId, "the store did not return the saved resource", false));
            }
        }
        catch (Exception e)
        {
            // not hidden: every entity of the group is told and answers its callers with it
            var reason = e is OperationCanceledException ? "cancelled at max-duration" : $"{e.GetType().Name}: {e.Message}";
            StoreFailed(e, reason, $"Saving {live.Count} resources of {_settings.TypeName} in one call failed");
            foreach (var (save, replyTo) in live)
                replyTo.Tell(new ResourceSaveFailed(save.BatchId, reason, cancel.IsCancellationRequested));
        }

        return Done.Instance;
    }
}
