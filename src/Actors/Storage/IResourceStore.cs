namespace Akka.WriteBehind.Storage;

/// <summary>
/// Loads and saves the resources of one batch resource type (the Go library's <c>LoadResource</c> and <c>SaveResource</c>).
/// The batch entity of a key calls <see cref="LoadAsync"/> at the start of a batch (unless it still holds the resource,
/// <c>keep-loaded</c>) and <see cref="SaveAsync"/> at its end, never both at once for one key; different keys are loaded and
/// saved concurrently, so implementations must be safe for concurrent calls.
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
