namespace Akka.WriteBehind.Batches;

/// <summary>
/// Loads and saves the resources of one batch resource type (the Go library's <c>LoadResource</c> and <c>SaveResource</c>).
/// The batch entity of a key calls <see cref="LoadAsync"/> at the start of a batch (unless it still holds the resource,
/// <c>keep-loaded</c>) and <see cref="SaveAsync"/> at its end, never both at once for one key; different keys are loaded and
/// saved concurrently, so implementations must be safe for concurrent calls. Request ids (retries applied once) are kept
/// with the resources only by stores that implement <see cref="IIdempotentResourceStore{TResource}"/>; with any other store
/// they live in the memory of the key's entity and are forgotten when it stops (passivation, hand-off, node loss).
/// </summary>
/// <typeparam name="TResource">The resource type: an immutable value (a record) is strongly advised.</typeparam>
public interface IResourceStore<TResource> where TResource : notnull
{
    /// <summary>Creates the schema if it does not exist. Idempotent; called once when the resource type starts on a node.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    Task InitializeAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Loads the resource <paramref name="key"/>; a key never saved loads as the type's empty resource (for example a zero
    /// balance). Throwing fails the batch: every operation of it is answered <see cref="ErrorCode.StoreFailure"/>.
    /// </summary>
    /// <param name="key">The resource's key.</param>
    /// <param name="cancellationToken">Cancelled when the batch passes <c>max-duration</c>.</param>
    Task<TResource> LoadAsync(string key, CancellationToken cancellationToken);

    /// <summary>
    /// Saves <paramref name="resource"/> as the new state of <paramref name="key"/>, atomically. Throwing fails the batch: every
    /// operation of it is answered <see cref="ErrorCode.StoreFailure"/>, and the entity reloads the resource next time.
    /// </summary>
    /// <param name="key">The resource's key.</param>
    /// <param name="resource">The resource after the batch's operations.</param>
    /// <param name="cancellationToken">Cancelled when the batch passes <c>max-duration</c>: its callers are told the batch failed,
    /// so a save must not commit once this is cancelled (check it before the commit).</param>
    /// <returns>The resource as stored: <paramref name="resource"/> itself, or a copy with what the store changed (a version).</returns>
    Task<TResource> SaveAsync(string key, TResource resource, CancellationToken cancellationToken);
}

/// <summary>
/// A resource store that can also save (and load) many keys in one round trip. When a resource type's store implements it,
/// each node gathers the saves of its batch entities for a short time (<c>save-many.max-delay</c>, at most
/// <c>save-many.max-keys</c>) and writes each group with one <see cref="SaveManyAsync"/> call; their loads are gathered the
/// same way into <see cref="LoadManyAsync"/> calls.
/// </summary>
/// <typeparam name="TResource">The resource type.</typeparam>
public interface IBulkResourceStore<TResource> : IResourceStore<TResource> where TResource : notnull
{
    /// <summary>
    /// Saves every resource of <paramref name="resources"/> in one transaction: either all are saved or the call throws, which
    /// fails the batch of every key of the group.
    /// </summary>
    /// <param name="resources">New state per key; one entry per key.</param>
    /// <param name="cancellationToken">Cancelled when the earliest <c>max-duration</c> deadline of the group passes; a save must not
    /// commit once this is cancelled.</param>
    /// <returns>Every resource as stored, by key.</returns>
    Task<IReadOnlyDictionary<string, TResource>> SaveManyAsync(IReadOnlyDictionary<string, TResource> resources, CancellationToken cancellationToken);

    /// <summary>
    /// Loads every resource of <paramref name="keys"/>, a key never saved as the type's empty resource (as
    /// <see cref="IResourceStore{TResource}.LoadAsync"/>). Throwing fails the batch of every key of the group. The default
    /// calls <see cref="IResourceStore{TResource}.LoadAsync"/> once per key; override it with one query for many keys.
    /// </summary>
    /// <param name="keys">Distinct keys.</param>
    /// <param name="cancellationToken">Cancelled when the earliest <c>max-duration</c> deadline of the group passes.</param>
    /// <returns>Every resource, by key.</returns>
    async Task<IReadOnlyDictionary<string, TResource>> LoadManyAsync(IReadOnlyCollection<string> keys, CancellationToken cancellationToken)
    {
        var loaded = await Task.WhenAll(keys.Select(key => LoadAsync(key, cancellationToken))).ConfigureAwait(false);
        var byKey = new Dictionary<string, TResource>(keys.Count, StringComparer.Ordinal);
        var i = 0;
        foreach (var key in keys)
            byKey[key] = loaded[i++];
        return byKey;
    }
}

/// <summary>
/// The request id of an operation that ran and whose batch was saved, remembered with its resource so that a repeat of the
/// id is answered with <paramref name="Result"/> instead of being applied again (see <see cref="RequestIds"/>).
/// </summary>
/// <param name="RequestId">The caller's request id.</param>
/// <param name="Result">What the handler returned for the operation (immutable; the store keeps it in its own format).</param>
/// <param name="At">When its batch was saved (UTC); the id is forgotten once the idempotency window has passed since.</param>
public sealed record RememberedRequest(string RequestId, object? Result, DateTime At);

/// <summary>
/// A bulk resource store that also keeps the request ids of the operations it saves, in the same transaction as the resources,
/// so that retried operations are applied once even after a hand-off or a crash of the owning node. A store that does not
/// implement it leaves request ids in the memory of the key's entity only: they are forgotten when the entity stops
/// (passivation, hand-off, node loss), after which a repeat is applied again.
/// </summary>
/// <typeparam name="TResource">The resource type.</typeparam>
public interface IIdempotentResourceStore<TResource> : IBulkResourceStore<TResource> where TResource : notnull
{
    /// <summary>
    /// The remembered requests of <paramref name="keys"/> saved at or after <paramref name="since"/>. Called with an entity's
    /// first load (on whichever node it starts), next to <see cref="IBulkResourceStore{TResource}.LoadManyAsync"/>.
    /// </summary>
    /// <param name="keys">Distinct keys.</param>
    /// <param name="since">Start of the idempotency window (UTC): older requests are forgotten.</param>
    /// <param name="cancellationToken">Cancelled when the earliest <c>max-duration</c> deadline of the group passes.</param>
    /// <returns>The requests of each key that has any, oldest first.</returns>
    Task<IReadOnlyDictionary<string, IReadOnlyList<RememberedRequest>>> LoadRequestsAsync(
        IReadOnlyCollection<string> keys, DateTime since, CancellationToken cancellationToken);

    /// <summary>
    /// As <see cref="IBulkResourceStore{TResource}.SaveManyAsync"/>, and in the same transaction: stores
    /// <paramref name="requests"/> (a request id already stored for its key is overwritten) and deletes the requests saved
    /// before <paramref name="forgetBefore"/>.
    /// </summary>
    /// <param name="resources">New state per key.</param>
    /// <param name="requests">The request ids of the operations that ran in the saved batches, by key.</param>
    /// <param name="forgetBefore">Start of the idempotency window (UTC).</param>
    /// <param name="cancellationToken">A save must not commit once this is cancelled.</param>
    /// <returns>Every resource as stored, by key.</returns>
    Task<IReadOnlyDictionary<string, TResource>> SaveManyWithRequestsAsync(IReadOnlyDictionary<string, TResource> resources,
        IReadOnlyList<KeyValuePair<string, RememberedRequest>> requests, DateTime forgetBefore, CancellationToken cancellationToken);
}
