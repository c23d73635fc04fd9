using Akka.WriteBehind.Benchmarks.Systems;

namespace Akka.WriteBehind.Benchmarks;

/// <summary>What a system under test did with the increments it was given.</summary>
/// <param name="Sent">Increments handed to the system.</param>
/// <param name="Accepted">Of those, acknowledged (or, on fire-and-forget paths, sent without a refusal being visible).</param>
/// <param name="Rejected">Refused with a typed error (counted, not resent: a refusal is the system's answer, not a loss).</param>
internal sealed record SendResult(long Sent, long Accepted, long Rejected);

/// <summary>A system under test. One instance per child process; nothing is shared between rounds.</summary>
internal interface IBenchTarget : IAsyncDisposable
{
    /// <summary>Starts the system on the SQLite file <paramref name="dbFile"/> (schema created); not measured.</summary>
    /// <param name="keys">Every key the round sends to: the measured keys and the warm-up's (<see cref="WarmUpPlan"/>).</param>
    Task StartAsync(string dbFile, Scenario scenario, string[] keys);

    /// <summary>
    /// Sends the increments (delta 1 each) in order; returns once the system has taken them (its ingest). Called twice in
    /// a round that warms up (the warm-up's keys, then the measured ones).
    /// </summary>
    /// <param name="keys">Key names.</param>
    /// <param name="sequence">The key index of each increment.</param>
    /// <param name="pacer">Holds each increment back to its intended send time (open loop), or not at all (closed loop).</param>
    /// <param name="cap">Systems that cannot take the whole workload in reasonable time stop sending after this long.</param>
    Task<SendResult> SendAsync(string[] keys, int[] sequence, Pacer pacer, TimeSpan cap);

    /// <summary>Rows written to the target table so far (one per key per write).</summary>
    long RowsWritten { get; }
}

internal static class BenchSystems
{
    public const string OursTell = "ours-tell";
    public const string OursFast = "ours-fast";
    public const string OursFastJournal = "ours-fast-journal";
    public const string OursAsk = "ours-ask";
    public const string OursAskJournal = "ours-ask-journal";
    public const string OursDurable = "ours-durable";
    public const string Dictionary = "dictionary";
    public const string WriteThroughFull = "write-through-full";
    public const string WriteThroughNormal = "write-through-normal";
    public const string Orleans = "orleans";
    public const string RefreshSqlite = "refresh-sqlite";
    public const string RecoverySweep = "ours-journal-sweep";
    public const string RecoveryGet = "ours-journal-get";

    public static readonly IReadOnlyDictionary<string, string> Descriptions = new Dictionary<string, string>
    {
        [OursTell] = "Akka.WriteBehind, Tell (fire-and-forget) through CounterRegion, memory durability",
        [OursFast] = "Akka.WriteBehind, CounterSet.Increment fast path (per-key aggregates drained every 5ms), memory durability",
        [OursFastJournal] = "Akka.WriteBehind, the fast path with journal durability (Akka.Persistence.Sql on SQLite, one shard): drained aggregates grouped into shard-log events",
        [OursAsk] = "Akka.WriteBehind, Ask (acknowledged), memory durability, 1,000 Asks in flight",
        [OursAskJournal] = "Akka.WriteBehind, Ask, journal durability (Akka.Persistence.Sql on SQLite, one shard), 1,000 Asks in flight",
        [OursDurable] = "Akka.WriteBehind, callers awaiting CounterSet.IncrementAsync (acknowledged once in the shard log), journal durability (Akka.Persistence.Sql on SQLite, one shard as on a one-node SQLite file), 10,000 in flight",
        [Dictionary] = "ConcurrentDictionary<string,long> + timer swap + the same SQLite upsert (in-process upper bound)",
        [WriteThroughFull] = "one autocommit UPDATE per increment, SQLite WAL, synchronous=FULL",
        [WriteThroughNormal] = "one autocommit UPDATE per increment, SQLite WAL, synchronous=NORMAL",
        [Orleans] = $"Microsoft Orleans 10.4.2 at its best: in-process silo, a grain per key, [OneWay] increments from {Systems.OrleansTarget.SenderThreads} sender threads ({(Systems.OrleansTarget.SenderThreads == Environment.ProcessorCount ? "one per core" : $"{Systems.OrleansTarget.SenderThreadsVariable}; the default is one per core")}), grain timer flushing through the same SQLite upsert",
        [RefreshSqlite] = "Akka.WriteBehind refresh cache on a one-node cluster, items in refresh_items on a SQLite file, an in-process syncer that answers every sync with a new state (a version counter), so every sync is a store write",
        [RecoverySweep] = "Akka.WriteBehind, journal durability on SQLite (one shard): after a crash a fresh node recovers the keys without any caller (the journal sweep wakes the shard log; it replays once and wakes its keys, which flush)",
        [RecoveryGet] = "the same, with a caller: GetCounter over every key (1,000 in flight) activates and recovers each entity, while the sweep runs too",
    };

    public static IBenchTarget Create(string name) => name switch
    {
        OursTell => new OursTarget(ask: false, journal: false),
        OursFast => new OursFastTarget(journal: false),
        OursFastJournal => new OursFastTarget(journal: true),
        OursAsk => new OursTarget(ask: true, journal: false),
        OursAskJournal => new OursTarget(ask: true, journal: true),
        OursDurable => new OursDurableTarget(),
        Dictionary => new DictionaryTarget(),
        WriteThroughFull => new WriteThroughTarget(synchronous: "FULL"),
        WriteThroughNormal => new WriteThroughTarget(synchronous: "NORMAL"),
        Orleans => new OrleansTarget(),
        _ => throw new ArgumentException($"unknown system {name}; use one of {string.Join(", ", Descriptions.Keys)}"),
    };
}
