using System.Text.RegularExpressions;
using Akka.Actor;
using Akka.Configuration;
using Akka.WriteBehind.Internal;

namespace Akka.WriteBehind.Batches;

/// <summary>
/// Settings of one batch resource type, read once from <c>akka.write-behind.batches.types.&lt;type-name&gt;</c> with
/// <c>akka.write-behind.batches</c> (the defaults of every type) as fallback; see <c>reference.conf</c> for every key.
/// </summary>
/// <param name="TypeName">The resource type's name: its shard region's name and its HOCON section under <c>types</c>.</param>
/// <param name="MinDuration">A batch stays open at least this long after its first operation. <b>Default</b>: 100ms.</param>
/// <param name="MaxDuration">Deadline, from the batch's opening, for its load and save together; past it the batch fails. <b>Default</b>: 2 × <paramref name="MinDuration"/>.</param>
/// <param name="MaxOperations">A batch closes early once this many operations ran. <b>Default</b>: 10,000.</param>
/// <param name="EarlyClose">Close a batch as soon as it has run every operation queued for its key instead of waiting for
/// <paramref name="MinDuration"/>; operations arriving during its save form the next batch. <b>Default</b>: off (elgopher's semantics).</param>
/// <param name="KeepLoaded">Hold the resource between batches until passivation (reloaded after a failed batch). <b>Default</b>: off.</param>
/// <param name="MaxPending">Operations an entity queues for its next batch; beyond, callers get <see cref="ErrorCode.Saturated"/>. <b>Default</b>: 10,000.</param>
/// <param name="NumberOfShards">Shards of the type's region. <b>Default</b>: 100.</param>
/// <param name="PassivateIdleAfter">Idle time before an entity is passivated; <c>null</c> = never. <b>Default</b>: 120s.</param>
/// <param name="OperationTimeout">Deadline <see cref="BatchProcessor{TResource}.RunAsync{TResult}(string, IBatchOperation{TResult}, CancellationToken)"/> gives an operation to start running. <b>Default</b>: 10s.</param>
/// <param name="ReplyTimeoutMargin">Extra time the processor waits for an answer beyond the deadline plus <paramref name="MaxDuration"/>. <b>Default</b>: 5s.</param>
/// <param name="MaxInFlight">Operations a node's processor has waiting for answers; beyond, callers get <see cref="ErrorCode.Saturated"/>. <b>Default</b>: 10,000.</param>
/// <param name="SaveMany">The node's grouping of loads and saves (<c>save-many</c>).</param>
/// <param name="MaxActiveKeys">Keys of the type with operations queued for their next batch on one node (the depth); beyond, a key
/// with nothing queued gets <see cref="ErrorCode.Saturated"/> (<see cref="Queues.QueueSaturated"/>). <b>Default</b>: 100,000.</param>
/// <param name="Idempotency">Request ids of operations (<c>idempotency</c>).</param>
public sealed record BatchSettings(
    string TypeName,
    TimeSpan MinDuration,
    TimeSpan MaxDuration,
    int MaxOperations,
    bool EarlyClose,
    bool KeepLoaded,
    int MaxPending,
    int NumberOfShards,
    TimeSpan? PassivateIdleAfter,
    TimeSpan OperationTimeout,
    TimeSpan ReplyTimeoutMargin,
    int MaxInFlight,
    BatchSaveManySettings SaveMany,
    int MaxActiveKeys,
    BatchIdempotencySettings Idempotency)
{
    /// <summary>Path of the batches section.</summary>
    public const string ConfigPath = "akka.write-behind.batches";

    /// <summary>Name of the sub-section holding one section per resource type.</summary>
    public const string TypesKey = "types";

    private static readonly Regex TypeNamePattern = new("^[a-z0-9][a-z0-9-]{0,63}$", RegexOptions.CultureInvariant);

    /// <summary>The settings of <paramref name="typeName"/> in <paramref name="system"/>'s configuration, with the library defaults as fallback.</summary>
    /// <param name="system">The actor system.</param>
    /// <param name="typeName">The resource type's name.</param>
    /// <exception cref="ConfigurationException">A key is missing or out of range; the message names the key.</exception>
    public static BatchSettings Create(ActorSystem system, string typeName) =>
        FromConfig(system.Settings.Config.WithFallback(WriteBehindConfig.DefaultConfig()).GetConfig(ConfigPath), typeName);

    /// <summary>The HOCON path of the section of <paramref name="typeName"/>: <c>akka.write-behind.batches.types.&lt;type-name&gt;</c>.</summary>
    /// <param name="typeName">The resource type's name.</param>
    public static string TypePath(string typeName) => $"{ConfigPath}.{TypesKey}.{typeName}";

    /// <summary>
    /// Reads and validates the settings of <paramref name="typeName"/>: its section under <c>types</c>, falling back to the
    /// batches section itself.
    /// </summary>
    /// <param name="config">The <c>akka.write-behind.batches</c> section (not the root).</param>
    /// <param name="typeName">The resource type's name: lower-case letters, digits and dashes, at most 64.</param>
    /// <exception cref="ConfigurationException">The name is not valid, or a key is missing or out of range; the message names the key.</exception>
    public static BatchSettings FromConfig(Config config, string typeName)
    {
        if (typeName is null || !TypeNamePattern.IsMatch(typeName))
            throw new ConfigurationException(
                $"Batch resource type name \"{typeName}\" is not valid: use lower-case letters, digits and dashes (at most 64), e.g. \"accounts\".");
        if (config.IsNullOrEmpty())
            throw new ConfigurationException($"Configuration section {ConfigPath} is missing.");

        var typeSection = config.GetConfig($"{TypesKey}.{typeName}") ?? Config.Empty;
        var section = typeSection.IsNullOrEmpty() ? config : typeSection.WithFallback(config);
        var read = new ConfigReader(section, key => typeSection.HasPath(key) ? $"{TypePath(typeName)}.{key}" : $"{ConfigPath}.{key}");

        var minDuration = read.PositiveDuration(Keys.MinDuration);
        var maxDuration = read.IsWord(Keys.MaxDuration, "auto") ? minDuration * 2 : read.PositiveDuration(Keys.MaxDuration);
        read.Require(maxDuration > minDuration, Keys.MaxDuration, $"({maxDuration}) must be longer than min-duration ({minDuration})");

        var settings = new BatchSettings(
            TypeName: typeName,
            MinDuration: minDuration,
            MaxDuration: maxDuration,
            MaxOperations: read.PositiveInt(Keys.MaxOperations),
            EarlyClose: read.Bool(Keys.EarlyClose),
            KeepLoaded: read.Bool(Keys.KeepLoaded),
            MaxPending: read.PositiveInt(Keys.MaxPending),
            NumberOfShards: read.PositiveInt(Keys.NumberOfShards),
            PassivateIdleAfter: read.DurationOrOff(Keys.PassivateIdleAfter),
            OperationTimeout: read.PositiveDuration(Keys.OperationTimeout),
            ReplyTimeoutMargin: read.PositiveDuration(Keys.ReplyTimeoutMargin),
            MaxInFlight: read.PositiveInt(Keys.MaxInFlight),
            SaveMany: new BatchSaveManySettings(
                MaxKeys: read.PositiveInt(Keys.SaveManyMaxKeys),
                MaxDelay: read.NonNegativeDuration(Keys.SaveManyMaxDelay),
                Parallelism: read.PositiveInt(Keys.SaveManyParallelism),
                BufferSize: read.PositiveInt(Keys.SaveManyBufferSize)),
            MaxActiveKeys: read.PositiveInt(Keys.MaxActiveKeys),
            Idempotency: new BatchIdempotencySettings(
                Window: read.PositiveDuration(Keys.IdempotencyWindow),
                MaxRemembered: read.PositiveInt(Keys.IdempotencyMaxRemembered)));

        // a save waiting for its group spends the time between min- and max-duration: it must leave room for the save itself
        read.Require(settings.SaveMany.MaxDelay < (maxDuration - minDuration) / 2, Keys.SaveManyMaxDelay,
            $"({settings.SaveMany.MaxDelay}) must be shorter than half of max-duration - min-duration ({(maxDuration - minDuration) / 2})");
        return settings;
    }

    /// <summary>HOCON keys of a batches section, relative to it.</summary>
    internal static class Keys
    {
        public const string MinDuration = "min-duration";
        public const string MaxDuration = "max-duration";
        public const string MaxOperations = "max-operations";
        public const string EarlyClose = "early-close";
        public const string KeepLoaded = "keep-loaded";
        public const string MaxPending = "max-pending";
        public const string MaxActiveKeys = "max-active-keys";
        public const string NumberOfShards = "number-of-shards";
        public const string PassivateIdleAfter = "passivate-idle-after";
        public const string OperationTimeout = "operation-timeout";
        public const string ReplyTimeoutMargin = "reply-timeout-margin";
        public const string MaxInFlight = "max-in-flight";
        public const string SaveManyMaxKeys = "save-many.max-keys";
        public const string SaveManyMaxDelay = "save-many.max-delay";
        public const string SaveManyParallelism = "save-many.parallelism";
        public const string SaveManyBufferSize = "save-many.buffer-size";
        public const string IdempotencyWindow = "idempotency.window";
        public const string IdempotencyMaxRemembered = "idempotency.max-remembered";
    }
}

/// <summary>
/// How a node groups the loads and saves of a resource type's batches (<c>save-many</c>) when its store implements
/// <see cref="IBulkResourceStore{TResource}"/>: queued up to <see cref="BufferSize"/>, grouped by <see cref="MaxKeys"/> or
/// <see cref="MaxDelay"/>, <see cref="Parallelism"/> groups at once. A group is bounded by its batches' <c>max-duration</c>,
/// not by a write timeout of its own.
/// </summary>
/// <param name="MaxKeys">Most keys per <c>SaveManyAsync</c> call (<c>max-keys</c>). <b>Default</b>: 500.</param>
/// <param name="MaxDelay">Longest a save that finds a writer slot free waits for others to join its group (zero: not at all; saves that queued while every slot was busy go as soon as one is free); shorter than half of <c>max-duration</c> − <c>min-duration</c> (<c>max-delay</c>). <b>Default</b>: 5ms.</param>
/// <param name="Parallelism">Groups being saved at the same time, per node (<c>parallelism</c>). <b>Default</b>: 2.</param>
/// <param name="BufferSize">Saves queued per node for grouping; beyond, the batch fails with <see cref="ErrorCode.StoreFailure"/> (<c>buffer-size</c>). <b>Default</b>: 10,000.</param>
public sealed record BatchSaveManySettings(int MaxKeys, TimeSpan MaxDelay, int Parallelism, int BufferSize);

/// <summary>Request ids of batch operations (<c>idempotency</c>).</summary>
/// <param name="Window">How long a request id (<see cref="BatchProcessor{TResource}.RunAsync{TResult}(string, IBatchOperation{TResult}, string, TimeSpan, CancellationToken)"/>)
/// is remembered after its batch was saved: a repeat within it is answered with the first answer and not applied again
/// (<c>window</c>). <b>Default</b>: 10 minutes.</param>
/// <param name="MaxRemembered">Request ids the entities of the type remember on one node at most; beyond, an operation with a
/// new id is refused with <see cref="ErrorCode.Saturated"/> (ids are never forgotten before the window ends)
/// (<c>max-remembered</c>). <b>Default</b>: 1,000,000.</param>
public sealed record BatchIdempotencySettings(TimeSpan Window, int MaxRemembered);
