using System.Globalization;
using System.Text;
using Akka.Configuration;
using Akka.WriteBehind.Storage;

namespace Akka.WriteBehind.Hosting;

/// <summary>
/// Options of <see cref="WriteBehindHostingExtensions.WithWriteBehindCounters(Akka.Hosting.AkkaConfigurationBuilder, WriteBehindCountersOptions?)"/>.
/// Every property left <c>null</c> keeps the value of the application's HOCON, else the library default in <c>reference.conf</c>.
/// </summary>
public sealed class WriteBehindCountersOptions
{
    /// <summary>
    /// How increments are made durable before they are acknowledged. With <see cref="Counters.CounterDurability.Journal"/>
    /// the extension also configures Akka.Persistence.Sql on the SQLite file <c>journal.db</c> in <see cref="SqliteDataDir"/>
    /// (as a fallback: an application that configures <c>akka.persistence.journal.sql</c> itself keeps its own).
    /// <b>Default</b>: <see cref="Counters.CounterDurability.Memory"/>.
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

    /// <summary>Most writes per store transaction. <b>Default</b>: 500.</summary>
    public int? BatchSize { get; set; }

    /// <summary>Longest wait for a store batch to fill. <b>Default</b>: 10ms.</summary>
    public TimeSpan? BatchDelay { get; set; }

    /// <summary>Store batches written at once. <b>Default</b>: 2.</summary>
    public int? Parallelism { get; set; }

    /// <summary>First retry back-off after a failed write. <b>Default</b>: 100ms.</summary>
    public TimeSpan? RetryMinBackoff { get; set; }

    /// <summary>Back-off cap. <b>Default</b>: 10s.</summary>
    public TimeSpan? RetryMaxBackoff { get; set; }

    /// <summary>Messages in flight between the ingest stage and the entities. <b>Default</b>: 10,000.</summary>
    public int? IngestMaxOutstanding { get; set; }

    /// <summary>Messages queued in the ingest stage before senders are refused with <see cref="ErrorCode.Saturated"/>. <b>Default</b>: 500,000.</summary>
    public int? IngestBufferSize { get; set; }

    /// <summary>Directory of the default SQLite store's file (<c>akka.write-behind.storage.sqlite.data-dir</c>). <b>Default</b>: <c>data</c>.</summary>
    public string? SqliteDataDir { get; set; }

    /// <summary>
    /// The store to write counters to. <b>Default</b>: <c>null</c>, a <see cref="SqliteCounterStore"/> configured by
    /// <c>akka.write-behind.storage.sqlite</c>.
    /// </summary>
    public ICounterStore? Store { get; set; }

    /// <summary>Renders the set options as HOCON under <c>akka.write-behind</c>.</summary>
    public Config ToHocon()
    {
        var sb = new StringBuilder();
        void Add(string path, string? value)
        {
            if (value is not null)
                sb.Append(path).Append(" = ").Append(value).Append('\n');
        }

        const string c = "akka.write-behind.counters.";
        Add(c + "durability", Durability?.ToString().ToLowerInvariant());
        Add(c + "flush-interval", Duration(FlushInterval));
        Add(c + "flush-jitter", FlushJitter?.ToString(CultureInfo.InvariantCulture));
        Add(c + "number-of-shards", NumberOfShards?.ToString(CultureInfo.InvariantCulture));
        Add(c + "passivate-idle-after", PassivateIdleAfter == TimeSpan.Zero ? "off" : Duration(PassivateIdleAfter));
        Add(c + "store-writer.batch-size", BatchSize?.ToString(CultureInfo.InvariantCulture));
        Add(c + "store-writer.batch-delay", Duration(BatchDelay));
        Add(c + "store-writer.parallelism", Parallelism?.ToString(CultureInfo.InvariantCulture));
        Add(c + "retry.min-backoff", Duration(RetryMinBackoff));
        Add(c + "retry.max-backoff", Duration(RetryMaxBackoff));
        Add(c + "ingest.max-outstanding", IngestMaxOutstanding?.ToString(CultureInfo.InvariantCulture));
        Add(c + "ingest.buffer-size", IngestBufferSize?.ToString(CultureInfo.InvariantCulture));
        Add("akka.write-behind.storage.sqlite.data-dir", SqliteDataDir is null ? null : Quote(SqliteDataDir));
        return ConfigurationFactory.ParseString(sb.ToString());
    }

    private static string? Duration(TimeSpan? value) =>
        value is null ? null : ((long)Math.Ceiling(value.Value.TotalMilliseconds)).ToString(CultureInfo.InvariantCulture) + "ms";

    private static string Quote(string value) =>
        "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}
