using Akka.Configuration;
using Akka.WriteBehind.Internal;

namespace Akka.WriteBehind.Counters;

/// <summary>How counter increments are made durable before they are acknowledged.</summary>
public enum CounterDurability
{
    /// <summary>Acknowledged once held in the entity's memory; lost only if the process dies before the next flush.</summary>
    Memory,

    /// <summary>
    /// Acknowledged once persisted in the log of the key's shard (Akka.Persistence; one event carries many keys' deltas);
    /// replayed after a crash and written to the target exactly once (the row's <c>applied_seq</c> is the shard-log sequence
    /// number of the last event it holds).
    /// </summary>
    Journal,
}

/// <summary>
/// Settings of a counter set, read once from <c>akka.write-behind.counters</c> (see <c>reference.conf</c> for every key).
/// </summary>
/// <param name="TypeName">Shard region type name. <b>Default</b>: <c>write-behind-counters</c>.</param>
/// <param name="Durability">Durability mode. <b>Default</b>: <see cref="CounterDurability.Memory"/>.</param>
/// <param name="FlushInterval">Accumulation time before an entity flushes. <b>Default</b>: 1s.</param>
/// <param name="FlushJitter">Random fraction of the interval by which flushes are brought forward, in [0, 1). <b>Default</b>: 0.2.</param>
/// <param name="NumberOfShards">Shards of the region. <b>Default</b>: 100.</param>
/// <param name="PassivateIdleAfter">Idle time before an entity is passivated (it flushes first); <c>null</c> = never. <b>Default</b>: 120s.</param>
/// <param name="EntityBufferSize">Messages an entity buffers while loading. <b>Default</b>: 10,000.</param>
/// <param name="Retry">Back-off of failed loads and writes (<c>retry</c>). <b>Default</b>: 100ms to 2s, random factor 0.2.</param>
/// <param name="StoreWriter">The node's store writer (<c>store-writer</c>); its buffer holds writes and loads, and its
/// <see cref="StoreWriterSettings.WriteTimeout"/> also bounds loads and journal start-up. <b>Default</b>: 500 per batch, 10ms, 2 at once, 100,000 queued, 30s.</param>
/// <param name="Ingest">The node's ingest stage and fast path (<c>ingest</c>).</param>
/// <param name="Journal">Journal durability's shard logs (<c>journal</c>).</param>
/// <param name="Idempotency">Request ids of increments (<c>idempotency</c>).</param>
/// <param name="FlushAll">Flushing every key of the set (<c>flush-all</c>).</param>
public sealed record CounterSettings(
    string TypeName,
    CounterDurability Durability,
    TimeSpan FlushInterval,
    double FlushJitter,
    int NumberOfShards,
    TimeSpan? PassivateIdleAfter,
    int EntityBufferSize,
    RetrySettings Retry,
    StoreWriterSettings StoreWriter,
    CounterIngestSettings Ingest,
    CounterJournalSettings Journal,
    CounterIdempotencySettings Idempotency,
    CounterFlushAllSettings FlushAll)
{
    /// <summary>
    /// Live counter entities per node at most (<c>max-live-entities</c>; <c>off</c> or 0 = no limit): beyond, the least
    /// recently used are passivated, flushing first, so that a flood of new keys cannot grow the node without bound.
    /// <b>Default</b>: 100,000.
    /// </summary>
    public int MaxLiveEntities { get; init; } = 100_000;

    /// <summary>
    /// The table of this set's rows in the library's stores (<c>table-name</c>; empty = derived from <see cref="TypeName"/>
    /// by <see cref="CounterTables.DerivedFrom"/>). Each set has its own rows: two sets on one table would skip each
    /// other's writes. <b>Default</b>: <c>counters</c> for the default set, <c>counters_&lt;type name&gt;</c> for another.
    /// </summary>
    public string TableName
    {
        get => _tableName ?? CounterTables.DerivedFrom(TypeName);
        init => _tableName = string.IsNullOrEmpty(value) ? null : value;
    }

    private readonly string? _tableName;

    /// <summary>Path of the counters section.</summary>
    public const string ConfigPath = "akka.write-behind.counters";

    /// <summary>The settings of <paramref name="system"/>'s configuration, with the library defaults as fallback.</summary>
    /// <param name="system">The actor system.</param>
    public static CounterSettings Create(Akka.Actor.ActorSystem system) =>
        FromConfig(system.Settings.Config.WithFallback(WriteBehindConfig.DefaultConfig()).GetConfig(ConfigPath));

    /// <summary>
    /// Reads and validates the <c>akka.write-behind.counters</c> section.
    /// </summary>
    /// <param name="config">The section itself (not the root).</param>
    /// <exception cref="ConfigurationException">A key is missing or out of range; the message names the key.</exception>
    public static CounterSettings FromConfig(Config config)
    {
        if (config.IsNullOrEmpty())
            throw new ConfigurationException($"Configuration section {ConfigPath} is missing.");

        var durability = config.GetString(Keys.Durability, "memory").ToLowerInvariant() switch
        {
            "memory" => CounterDurability.Memory,
            "journal" => CounterDurability.Journal,
            var other => throw new ConfigurationException(
                $"{ConfigPath}.{Keys.Durability} = \"{other}\" is not supported; use \"memory\" or \"journal\"."),
        };

        var passivate = config.GetString(Keys.PassivateIdleAfter, "off");
        var settings = new CounterSettings(
            TypeName: NonEmpty(config, Keys.TypeName),
            Durability: durability,
            FlushInterval: Positive(config, Keys.FlushInterval),
            FlushJitter: config.GetDouble(Keys.FlushJitter),
            NumberOfShards: config.GetInt(Keys.NumberOfShards),
            PassivateIdleAfter: passivate is "off" or "" ? null : Positive(config, Keys.PassivateIdleAfter),
            EntityBufferSize: config.GetInt(Keys.EntityBufferSize),
            Retry: SharedSettings.Retry(config, ConfigPath),
            StoreWriter: SharedSettings.StoreWriter(config, ConfigPath),
            Ingest: new CounterIngestSettings(
                MaxOutstanding: config.GetInt(Keys.IngestMaxOutstanding),
                BufferSize: config.GetInt(Keys.IngestBufferSize),
                MaxPending: config.GetInt(Keys.IngestMaxPending),
                MaxActiveKeys: config.GetInt(Keys.IngestMaxActiveKeys),
                ConfirmTimeout: Positive(config, Keys.IngestConfirmTimeout),
                DrainTimeout: Positive(config, Keys.IngestDrainTimeout),
                AggregateWindow: Positive(config, Keys.IngestAggregateWindow),
                FastPathMaxKeys: config.GetInt(Keys.IngestFastPathMaxKeys)),
            Journal: new CounterJournalSettings(
                PluginId: NonEmpty(config, Keys.JournalPluginId),
                GroupWindow: NonNegative(config, Keys.JournalGroupWindow),
                TrimInterval: Positive(config, Keys.JournalTrimInterval),
                RecoveryParallelism: config.GetInt(Keys.JournalRecoveryParallelism),
                SweepInterval: Positive(config, Keys.JournalSweepInterval),
                SweepLimit: config.GetInt(Keys.JournalSweepLimit)),
            Idempotency: new CounterIdempotencySettings(
                Window: Positive(config, Keys.IdempotencyWindow),
                MaxIdsPerKey: config.GetInt(Keys.IdempotencyMaxIdsPerKey),
                CleanupInterval: Positive(config, Keys.IdempotencyCleanupInterval)),
            FlushAll: new CounterFlushAllSettings(Parallelism: config.GetInt(Keys.FlushAllParallelism)))
        {
            TableName = config.GetString(Keys.TableName, ""),
            MaxLiveEntities = config.GetString(Keys.MaxLiveEntities, "off") is "off" or "" ? 0 : config.GetInt(Keys.MaxLiveEntities),
        };
        settings.Validate();
        return settings;
    }

    private void Validate()
    {
        Require(FlushJitter is >= 0 and < 1, Keys.FlushJitter, "must be in [0, 1)");
        Require(NumberOfShards > 0, Keys.NumberOfShards, "must be > 0");
        Require(EntityBufferSize > 0, Keys.EntityBufferSize, "must be > 0");
        Require(Ingest.MaxOutstanding > 0, Keys.IngestMaxOutstanding, "must be > 0");
        Require(Ingest.BufferSize >= 0, Keys.IngestBufferSize, "must be >= 0");
        Require(Journal.RecoveryParallelism > 0, Keys.JournalRecoveryParallelism, "must be > 0");
        Require(Journal.GroupWindow >= TimeSpan.Zero, Keys.JournalGroupWindow, "must not be negative");
        Require(Journal.SweepLimit > 0, Keys.JournalSweepLimit, "must be > 0");
        Require(Ingest.MaxPending > 0, Keys.IngestMaxPending, "must be > 0");
        Require(Ingest.MaxActiveKeys > 0, Keys.IngestMaxActiveKeys, "must be > 0");
        Require(Ingest.FastPathMaxKeys > 0, Keys.IngestFastPathMaxKeys, "must be > 0");
        Require(FlushAll.Parallelism > 0, Keys.FlushAllParallelism, "must be > 0");
        Require(MaxLiveEntities >= 0, Keys.MaxLiveEntities, "must be >= 0 (0 or off: no limit)");
        Require(Idempotency.MaxIdsPerKey > 0, Keys.IdempotencyMaxIdsPerKey, "must be > 0");
        Require(CounterTables.IsValid(TableName), Keys.TableName,
            $"(\"{TableName}\") must be an SQL identifier: a lowercase letter or underscore, then lowercase letters, digits or underscores, at most 63");
    }

    private static void Require(bool condition, string key, string what)
    {
        if (!condition)
            throw new ConfigurationException($"{ConfigPath}.{key} {what}.");
    }

    private static string NonEmpty(Config config, string key)
    {
        var value = config.GetString(key);
        Require(!string.IsNullOrWhiteSpace(value), key, "must not be empty");
        return value;
    }

    private static TimeSpan NonNegative(Config config, string key)
    {
        try
        {
            return config.GetTimeSpan(key);
        }
        catch (FormatException e)
        {
            throw new ConfigurationException($"{ConfigPath}.{key} must be a duration of 0s or more: {e.Message}");
        }
    }

    private static TimeSpan Positive(Config config, string key)
    {
        if (!config.HasPath(key))
            throw new ConfigurationException($"{ConfigPath}.{key} is missing.");
        var value = config.GetTimeSpan(key);
        Require(value > TimeSpan.Zero, key, "must be a positive duration");
        return value;
    }

    /// <summary>HOCON keys of the counters section, relative to <see cref="ConfigPath"/>.</summary>
    internal static class Keys
    {
        public const string TypeName = "type-name";
        public const string TableName = "table-name";
        public const string Durability = "durability";
        public const string FlushInterval = "flush-interval";
        public const string FlushJitter = "flush-jitter";
        public const string NumberOfShards = "number-of-shards";
        public const string PassivateIdleAfter = "passivate-idle-after";
        public const string EntityBufferSize = "entity-buffer-size";
        public const string IngestMaxOutstanding = "ingest.max-outstanding";
        public const string IngestBufferSize = "ingest.buffer-size";
        public const string IngestConfirmTimeout = "ingest.confirm-timeout";
        public const string IngestDrainTimeout = "ingest.drain-timeout";
        public const string IngestMaxPending = "ingest.max-pending";
        public const string IngestMaxActiveKeys = "ingest.max-active-keys";
        public const string IngestAggregateWindow = "ingest.aggregate-window";
        public const string IngestFastPathMaxKeys = "ingest.fast-path-max-keys";
        public const string IdempotencyWindow = "idempotency.window";
        public const string IdempotencyMaxIdsPerKey = "idempotency.max-ids-per-key";
        public const string IdempotencyCleanupInterval = "idempotency.cleanup-interval";
        public const string JournalPluginId = "journal.plugin-id";
        public const string JournalTrimInterval = "journal.trim-interval";
        public const string JournalGroupWindow = "journal.group-window";
        public const string JournalRecoveryParallelism = "journal.recovery-parallelism";
        public const string JournalSweepInterval = "journal.sweep-interval";
        public const string JournalSweepLimit = "journal.sweep-limit";
        public const string FlushAllParallelism = "flush-all.parallelism";
        public const string MaxLiveEntities = "max-live-entities";
    }
}

/// <summary>The node's ingest stage of a counter set and its fast path (<c>akka.write-behind.counters.ingest</c>).</summary>
/// <param name="MaxOutstanding">Messages in flight between the ingest stage and the entities (<c>max-outstanding</c>). <b>Default</b>: 10,000.</param>
/// <param name="BufferSize">Messages queued in the ingest stage (<c>buffer-size</c>). <b>Default</b>: 500,000.</param>
/// <param name="MaxPending">Commands queued for one key (the width, <c>max-pending</c>); beyond, <see cref="Queues.QueueSaturated"/>. <b>Default</b>: 10,000.</param>
/// <param name="MaxActiveKeys">Keys with queued commands (the depth, <c>max-active-keys</c>); beyond, <see cref="Queues.QueueSaturated"/>. <b>Default</b>: 100,000.</param>
/// <param name="ConfirmTimeout">Time after which an unconfirmed message releases its slot (<c>confirm-timeout</c>). <b>Default</b>: 30s.</param>
/// <param name="DrainTimeout">Time CoordinatedShutdown waits for the ingest stage to drain (<c>drain-timeout</c>). <b>Default</b>: 20s.</param>
/// <param name="AggregateWindow">How often the fast path's aggregates are drained into one message per key (<c>aggregate-window</c>). <b>Default</b>: 5ms.</param>
/// <param name="FastPathMaxKeys">Keys the fast path holds aggregates for at most (<c>fast-path-max-keys</c>); a new key beyond is
/// refused with <see cref="FastIncrementStatus.Saturated"/>. <b>Default</b>: 100,000.</param>
public sealed record CounterIngestSettings(
    int MaxOutstanding,
    int BufferSize,
    int MaxPending,
    int MaxActiveKeys,
    TimeSpan ConfirmTimeout,
    TimeSpan DrainTimeout,
    TimeSpan AggregateWindow,
    int FastPathMaxKeys);

/// <summary>The shard logs of journal durability (<c>akka.write-behind.counters.journal</c>).</summary>
/// <param name="PluginId">Akka.Persistence journal plugin (<c>plugin-id</c>). <b>Default</b>: <c>akka.persistence.journal.sql</c>.</param>
/// <param name="GroupWindow">Shortest time between the starts of two persists of one shard log; deltas that arrive meanwhile
/// join the next event (<c>group-window</c>). <b>Default</b>: 0s (as soon as the previous persist is done).</param>
/// <param name="TrimInterval">How often a shard log deletes the events whose deltas every row holds (<c>trim-interval</c>). <b>Default</b>: 10s.</param>
/// <param name="RecoveryParallelism">Keys a shard log wakes at once after a replay (<c>recovery-parallelism</c>). <b>Default</b>: 500.</param>
/// <param name="SweepInterval">How often the node wakes the shard logs that still hold events (<c>sweep-interval</c>). <b>Default</b>: 30s.</param>
/// <param name="SweepLimit">Most shard logs woken per sweep (<c>sweep-limit</c>). <b>Default</b>: 10,000.</param>
public sealed record CounterJournalSettings(
    string PluginId,
    TimeSpan GroupWindow,
    TimeSpan TrimInterval,
    int RecoveryParallelism,
    TimeSpan SweepInterval,
    int SweepLimit);

/// <summary>Request ids of increments (<c>akka.write-behind.counters.idempotency</c>).</summary>
/// <param name="Window">How long a request id is remembered after its increment was stored; a repeat within it is not
/// applied again (<c>window</c>). <b>Default</b>: 10 minutes.</param>
/// <param name="MaxIdsPerKey">Request ids one counter keeps in memory at most; older ones are still recognised by the store
/// (<c>max-ids-per-key</c>). <b>Default</b>: 10,000.</param>
/// <param name="CleanupInterval">How often the store writer deletes expired request ids (<c>cleanup-interval</c>). <b>Default</b>: 1 minute.</param>
public sealed record CounterIdempotencySettings(TimeSpan Window, int MaxIdsPerKey, TimeSpan CleanupInterval);

/// <summary>Flushing every key of a counter set (<c>akka.write-behind.counters.flush-all</c>).</summary>
/// <param name="Parallelism">Keys one node flushes at the same time during <see cref="CounterSet.FlushAllAsync"/>
/// (<c>parallelism</c>). <b>Default</b>: 1,000.</param>
public sealed record CounterFlushAllSettings(int Parallelism);
