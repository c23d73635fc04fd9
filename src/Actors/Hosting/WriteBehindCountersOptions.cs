using System.Globalization;
using Akka.Configuration;
using Akka.WriteBehind.Counters;
using Akka.WriteBehind.Internal;
using Akka.WriteBehind.Sql;

namespace Akka.WriteBehind.Hosting;

/// <summary>
/// Options of <see cref="WriteBehindHostingExtensions.WithWriteBehindCounters(Akka.Hosting.AkkaConfigurationBuilder, WriteBehindCountersOptions?)"/>.
/// Every property left <c>null</c> keeps the value of the application's HOCON, else the library default in <c>reference.conf</c>.
/// </summary>
public sealed class WriteBehindCountersOptions
{
    /// <summary>
    /// How increments are made durable before they are acknowledged. With <see cref="Counters.CounterDurability.Journal"/>
    /// the extension also configures Akka.Persistence.Sql next to the store chosen by <see cref="StorageProvider"/>: on the
    /// SQLite file <c>journal.db</c> in <see cref="SqliteDataDir"/>, or on the PostgreSQL database of
    /// <see cref="ConnectionString"/> (as a fallback: an application that configures <c>akka.persistence.journal.sql</c>
    /// itself keeps its own). <b>Default</b>: <see cref="Counters.CounterDurability.Memory"/>.
    /// </summary>
    public Counters.CounterDurability? Durability { get; set; }

    /// <summary>Accumulation time before an entity flushes. <b>Default</b>: 1s.</summary>
    public TimeSpan? FlushInterval { get; set; }

    /// <summary>Random fraction of the interval by which flushes are brought forward, in [0, 1). <b>Default</b>: 0.2.</summary>
    public double? FlushJitter { get; set; }

    /// <summary>Shards of the counter region. <b>Default</b>: 100.</summary>
    public int? NumberOfShards { get; set; }

    /// <summary>Idle time before an entity is passivated (it flushes first); <see cref="TimeSpan.Zero"/> disables. <b>Default</b>: 120s.</summary>
    public TimeSpan? PassivateIdleAfter { get; set; }

    /// <summary>
    /// Live counter entities per node at most (<c>max-live-entities</c>): beyond, the least recently used are passivated,
    /// flushing first. 0 = no limit. <b>Default</b>: 100,000.
    /// </summary>
    public int? MaxLiveEntities { get; set; }

    /// <summary>Most writes per store transaction. <b>Default</b>: 500.</summary>
    public int? BatchSize { get; set; }

    /// <summary>Longest wait for a store batch to fill. <b>Default</b>: 10ms.</summary>
    public TimeSpan? BatchDelay { get; set; }

    /// <summary>Store batches written at once. <b>Default</b>: 2.</summary>
    public int? Parallelism { get; set; }

    /// <summary>First retry back-off after a failed write. <b>Default</b>: 100ms.</summary>
    public TimeSpan? RetryMinBackoff { get; set; }

    /// <summary>Back-off cap. <b>Default</b>: 2s.</summary>
    public TimeSpan? RetryMaxBackoff { get; set; }

    /// <summary>Messages in flight between the ingest stage and the entities. <b>Default</b>: 10,000.</summary>
    public int? IngestMaxOutstanding { get; set; }

    /// <summary>Messages queued in the ingest stage before senders are refused with <see cref="ErrorCode.Saturated"/>. <b>Default</b>: 500,000.</summary>
    public int? IngestBufferSize { get; set; }

    /// <summary>Commands the ingest stage queues for one key before senders are refused with <see cref="ErrorCode.Saturated"/> (width). <b>Default</b>: 10,000.</summary>
    public int? IngestMaxPending { get; set; }

    /// <summary>Keys with queued commands in the ingest stage before commands for further keys are refused with <see cref="ErrorCode.Saturated"/> (depth). <b>Default</b>: 100,000.</summary>
    public int? IngestMaxActiveKeys { get; set; }

    /// <summary>Directory of the default SQLite store's file (<c>akka.write-behind.storage.sqlite.data-dir</c>). <b>Default</b>: <c>data</c>.</summary>
    public string? SqliteDataDir { get; set; }

    /// <summary>
    /// The database of the library's own store (<c>akka.write-behind.storage.provider</c>) and, with journal durability, of
    /// the journal. <see cref="StorageProvider.Postgres"/> needs <see cref="ConnectionString"/> when
    /// <see cref="Durability"/> is journal (the journal is configured from it). <b>Default</b>: <see cref="StorageProvider.Sqlite"/>.
    /// </summary>
    public StorageProvider? StorageProvider { get; set; }

    /// <summary>
    /// Connection string of the chosen <see cref="StorageProvider"/>: with <see cref="StorageProvider.Postgres"/>
    /// an Npgsql connection string (<c>akka.write-behind.storage.postgres.connection-string</c>), with
    /// <see cref="StorageProvider.Sqlite"/> a Microsoft.Data.Sqlite one that wins over <see cref="SqliteDataDir"/> for
    /// the counters table (<c>akka.write-behind.storage.sqlite.connection-string</c>; the SQLite journal stays in
    /// <see cref="SqliteDataDir"/>). <b>Default</b>: <c>null</c> (PostgreSQL: none; SQLite: the file in the data directory).
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>
    /// The store to write counters to. <b>Default</b>: <c>null</c>, the library's store chosen by <see cref="StorageProvider"/>:
    /// a <see cref="SqliteCounterStore"/> configured by <c>akka.write-behind.storage.sqlite</c> or a
    /// <see cref="PostgresCounterStore"/> configured by <c>akka.write-behind.storage.postgres</c>.
    /// </summary>
    public ICounterStore? Store { get; set; }

    /// <summary>
    /// The set's shard type name (<c>type-name</c>): the name of its shard region, the prefix of its actors, journal
    /// persistence ids and metrics, and the source of its table (see <see cref="TableName"/>). Each set on an actor system
    /// needs its own; <c>WithWriteBehindCounters&lt;TKey&gt;</c> requires it. <b>Default</b>: <c>write-behind-counters</c>.
    /// </summary>
    public string? TypeName { get; set; }

    /// <summary>
    /// The table of the set's rows in the library's stores (<c>table-name</c>). <b>Default</b>: <c>counters</c> for the
    /// type name <c>write-behind-counters</c>, else <c>counters_</c> and the type name (non-identifier characters as <c>_</c>).
    /// </summary>
    public string? TableName { get; set; }

    /// <summary>
    /// The cluster role of the members that host the set's entities, as Akka.Cluster.Hosting's <c>ShardOptions.Role</c>: a
    /// member without it runs the set's fast path and ingest stage in front of a region that only routes, and hosts none
    /// of its entities (nor runs its store writer's writes, journal or sweep). <b>Default</b>: <c>null</c>, every member.
    /// </summary>
    public string? Role { get; set; }

    /// <summary>Renders the set options as HOCON under <c>akka.write-behind</c>.</summary>
    public Config ToHocon()
    {
        const string c = "akka.write-behind.counters.";
        var provider = (StorageProvider ?? Sql.StorageProvider.Sqlite).ToString().ToLowerInvariant();
        return new HoconText()
            .Add(c + "type-name", TypeName is null ? null : HoconText.Quote(TypeName))
            .Add(c + "table-name", TableName is null ? null : HoconText.Quote(TableName))
            .Add(c + "durability", Durability?.ToString().ToLowerInvariant())
            .Add(c + "flush-interval", FlushInterval)
            .Add(c + "flush-jitter", FlushJitter?.ToString(CultureInfo.InvariantCulture))
            .Add(c + "number-of-shards", NumberOfShards)
            .AddDurationOrOff(c + "passivate-idle-after", PassivateIdleAfter)
            .Add(c + "max-live-entities", MaxLiveEntities)
            .Add(c + "store-writer.batch-size", BatchSize)
            .Add(c + "store-writer.batch-delay", BatchDelay)
            .Add(c + "store-writer.parallelism", Parallelism)
            .Add(c + "retry.min-backoff", RetryMinBackoff)
            .Add(c + "retry.max-backoff", RetryMaxBackoff)
            .Add(c + "ingest.max-outstanding", IngestMaxOutstanding)
            .Add(c + "ingest.buffer-size", IngestBufferSize)
            .Add(c + "ingest.max-pending", IngestMaxPending)
            .Add(c + "ingest.max-active-keys", IngestMaxActiveKeys)
            .Add("akka.write-behind.storage.sqlite.data-dir", SqliteDataDir is null ? null : HoconText.Quote(SqliteDataDir))
            .Add("akka.write-behind.storage.provider", StorageProvider?.ToString().ToLowerInvariant())
            .Add($"akka.write-behind.storage.{provider}.connection-string", ConnectionString is null ? null : HoconText.Quote(ConnectionString))
            .ToConfig();
    }
}
