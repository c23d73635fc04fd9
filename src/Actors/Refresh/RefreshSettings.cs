using Akka.Configuration;
using Akka.WriteBehind.Internal;

namespace Akka.WriteBehind.Refresh;

/// <summary>Whose budget <see cref="RefreshSettings.Tps"/> is.</summary>
public enum TpsScope
{
    /// <summary>Each node syncs at most <c>tps</c> items per second.</summary>
    Node,

    /// <summary>The whole cluster syncs at most <c>tps</c> items per second: each node takes <c>tps / (Up members)</c>.</summary>
    Cluster,
}

/// <summary>
/// Settings of the refresh cache, read once from <c>akka.write-behind.refresh</c> (see <c>reference.conf</c> for every key).
/// </summary>
/// <param name="TypeName">Shard region type name. <b>Default</b>: <c>write-behind-refresh</c>.</param>
/// <param name="ResyncPeriod">How often each node starts a refresh cycle over its items. <b>Default</b>: 10s.</param>
/// <param name="Tps">Syncs per second (items, not batches). <b>Default</b>: 100.</param>
/// <param name="TpsScope">Whose budget <paramref name="Tps"/> is. <b>Default</b>: <see cref="Refresh.TpsScope.Node"/>.</param>
/// <param name="Burst">Items that may be synced back to back above the rate after a quiet spell. <b>Default</b>: 10.</param>
/// <param name="BatchSize">Most items per syncer call. <b>Default</b>: 10.</param>
/// <param name="BatchDelay">Longest an item waits for its batch to fill. <b>Default</b>: 100ms.</param>
/// <param name="Parallelism">Syncer calls in flight at once per node. <b>Default</b>: 4.</param>
/// <param name="SyncTimeout">Longest one syncer call may take; then its items fail. <b>Default</b>: 30s.</param>
/// <param name="SyncOnCreate">Whether a newly created item is synced at once (through the same rate limit). <b>Default</b>: on.</param>
/// <param name="MaxItemsPerNode">Items refreshed on one node at most; beyond it the least recently used is evicted. <b>Default</b>: 100,000.</param>
/// <param name="NumberOfShards">Shards of the item region. <b>Default</b>: 100.</param>
/// <param name="EntityBufferSize">Commands an item buffers while it loads, and callers waiting for its store write. <b>Default</b>: 1,000.</param>
/// <param name="IdleTimeout">How long an item that is not refreshed (absent, terminal, evicted) stays in memory. <b>Default</b>: 60s.</param>
/// <param name="WakeInterval">How often each node wakes stored non-terminal items; <c>null</c> = only at start and when a member leaves. <b>Default</b>: 60s.</param>
/// <param name="WakeLimit">Most items woken per wake-up. <b>Default</b>: 10,000.</param>
/// <param name="Retry">Back-off of a failed store read or write and of a supervisor restart (<c>retry</c>). <b>Default</b>: 100ms to 10s, random factor 0.2.</param>
/// <param name="StoreWriter">The node's store writer of item writes (<c>store-writer</c>). <b>Default</b>: 500 per batch, 5ms, 2 at once, 10,000 queued, 30s.</param>
/// <param name="Idempotency">Request ids of item commands (<c>idempotency</c>).</param>
public sealed record RefreshSettings(
    string TypeName,
    TimeSpan ResyncPeriod,
    int Tps,
    TpsScope TpsScope,
    int Burst,
    int BatchSize,
    TimeSpan BatchDelay,
    int Parallelism,
    TimeSpan SyncTimeout,
    bool SyncOnCreate,
    int MaxItemsPerNode,
    int NumberOfShards,
    int EntityBufferSize,
    TimeSpan IdleTimeout,
    TimeSpan? WakeInterval,
    int WakeLimit,
    RetrySettings Retry,
    StoreWriterSettings StoreWriter,
    RefreshIdempotencySettings Idempotency)
{
    /// <summary>Path of the refresh section.</summary>
    public const string ConfigPath = "akka.write-behind.refresh";

    /// <summary>The settings of <paramref name="system"/>'s configuration, with the library defaults as fallback.</summary>
    /// <param name="system">The actor system.</param>
    public static RefreshSettings Create(Akka.Actor.ActorSystem system) =>
        FromConfig(system.Settings.Config.WithFallback(WriteBehindConfig.DefaultConfig()).GetConfig(ConfigPath));

    /// <summary>Reads and validates the <c>akka.write-behind.refresh</c> section.</summary>
    /// <param name="config">The section itself (not the root).</param>
    /// <exception cref="ConfigurationException">A key is missing or out of range; the message names the key.</exception>
    public static RefreshSettings FromConfig(Config config)
    {
        if (config.IsNullOrEmpty())
            throw new ConfigurationException($"Configuration section {ConfigPath} is missing.");

        var read = new ConfigReader(config, key => $"{ConfigPath}.{key}");
        var typeName = config.GetString(Keys.TypeName, "");
        read.Require(!string.IsNullOrWhiteSpace(typeName), Keys.TypeName, "must not be empty");
        TpsScope scope;
        if (read.IsWord(Keys.TpsScope, "node"))
            scope = TpsScope.Node;
        else if (read.IsWord(Keys.TpsScope, "cluster"))
            scope = TpsScope.Cluster;
        else
            throw new ConfigurationException($"{ConfigPath}.{Keys.TpsScope} = \"{config.GetString(Keys.TpsScope)}\" is not supported; use \"node\" or \"cluster\".");

        var settings = new RefreshSettings(
            TypeName: typeName,
            ResyncPeriod: read.PositiveDuration(Keys.ResyncPeriod),
            Tps: read.PositiveInt(Keys.Tps),
            TpsScope: scope,
            Burst: read.PositiveInt(Keys.Burst),
            BatchSize: read.PositiveInt(Keys.BatchSize),
            BatchDelay: read.PositiveDuration(Keys.BatchDelay),
            Parallelism: read.PositiveInt(Keys.Parallelism),
            SyncTimeout: read.PositiveDuration(Keys.SyncTimeout),
            SyncOnCreate: read.Bool(Keys.SyncOnCreate),
            MaxItemsPerNode: read.PositiveInt(Keys.MaxItemsPerNode),
            NumberOfShards: read.PositiveInt(Keys.NumberOfShards),
            EntityBufferSize: read.PositiveInt(Keys.EntityBufferSize),
            IdleTimeout: read.PositiveDuration(Keys.IdleTimeout),
            WakeInterval: read.DurationOrOff(Keys.WakeInterval),
            WakeLimit: read.PositiveInt(Keys.WakeLimit),
            Retry: SharedSettings.Retry(config, ConfigPath),
            StoreWriter: SharedSettings.StoreWriter(config, ConfigPath),
            Idempotency: new RefreshIdempotencySettings(
                Window: read.PositiveDuration(Keys.IdempotencyWindow),
                MaxIdsPerItem: read.PositiveInt(Keys.IdempotencyMaxIdsPerItem)));
        return settings;
    }

    /// <summary>HOCON keys of the refresh section, relative to <see cref="ConfigPath"/>.</summary>
    internal static class Keys
    {
        public const string TypeName = "type-name";
        public const string ResyncPeriod = "resync-period";
        public const string Tps = "tps";
        public const string TpsScope = "tps-scope";
        public const string Burst = "burst";
        public const string BatchSize = "batch-size";
        public const string BatchDelay = "batch-delay";
        public const string Parallelism = "parallelism";
        public const string SyncTimeout = "sync-timeout";
        public const string SyncOnCreate = "sync-on-create";
        public const string MaxItemsPerNode = "max-items-per-node";
        public const string NumberOfShards = "number-of-shards";
        public const string EntityBufferSize = "entity-buffer-size";
        public const string IdleTimeout = "idle-timeout";
        public const string WakeInterval = "wake-interval";
        public const string WakeLimit = "wake-limit";
        public const string WriterBatchSize = StoreWriterSettings.Keys.BatchSize;
        public const string WriterBatchDelay = StoreWriterSettings.Keys.BatchDelay;
        public const string WriterParallelism = StoreWriterSettings.Keys.Parallelism;
        public const string WriterBufferSize = StoreWriterSettings.Keys.BufferSize;
        public const string IdempotencyWindow = "idempotency.window";
        public const string IdempotencyMaxIdsPerItem = "idempotency.max-ids-per-item";
    }
}

/// <summary>Request ids of <see cref="PutItem"/> and <see cref="DeleteItem"/> (<c>akka.write-behind.refresh.idempotency</c>).</summary>
/// <param name="Window">How long an item's entity remembers the first answer to a command that carried a request id; a repeat
/// within it gets that answer and is not applied again (<c>window</c>). <b>Default</b>: 10 minutes.</param>
/// <param name="MaxIdsPerItem">Request ids an item's entity remembers at most, the newest (<c>max-ids-per-item</c>). <b>Default</b>: 1,000.</param>
public sealed record RefreshIdempotencySettings(TimeSpan Window, int MaxIdsPerItem);

/// <summary>The sync rate of one node: <see cref="PerSecond"/> items per second with bursts of <see cref="Burst"/>.</summary>
/// <param name="PerSecond">Items per second (may be fractional in cluster scope).</param>
/// <param name="Burst">Token bucket size, at least 1.</param>
public readonly record struct RefreshRate(double PerSecond, int Burst)
{
    /// <summary>
    /// The rate of one node: <paramref name="tps"/> and <paramref name="burst"/> as they are in node scope; in cluster scope
    /// both divided by the number of Up members (counted as 1 when none is Up yet), the burst at least 1.
    /// </summary>
    /// <param name="tps">The configured tps.</param>
    /// <param name="burst">The configured burst.</param>
    /// <param name="scope">The scope.</param>
    /// <param name="upMembers">Cluster members with status Up.</param>
    public static RefreshRate Of(int tps, int burst, TpsScope scope, int upMembers)
    {
        if (scope == TpsScope.Node)
            return new RefreshRate(tps, burst);
        var n = Math.Max(1, upMembers);
        return new RefreshRate((double)tps / n, Math.Max(1, burst / n));
    }

    /// <summary>Budget the token bucket holds at least, whatever <see cref="Burst"/> says.</summary>
    /// <remarks>
    /// Akka's scheduler wakes a waiting throttle at a granularity of ~10 ms (later on a loaded machine). A bucket smaller than
    /// the tokens earned meanwhile overflows and that budget is lost: at tps 1,000 with burst 10 the benchmark measured
    /// 0.3-0.5 of the configured rate.
    /// </remarks>
    public static readonly TimeSpan MinBucketTime = TimeSpan.FromMilliseconds(100);

    /// <summary>Time between two tokens of the bucket.</summary>
    public TimeSpan Interval => TimeSpan.FromTicks(Math.Max(1, (long)Math.Round(TimeSpan.TicksPerSecond / PerSecond)));

    /// <summary>Size of the token bucket: <see cref="Burst"/>, but at least <see cref="MinBucketTime"/> of budget.</summary>
    public int Bucket => Math.Max(Burst, (int)Math.Ceiling(PerSecond * MinBucketTime.TotalSeconds));
}
