namespace Akka.WriteBehind.Benchmarks.Http;

/// <summary>The systems of the <c>http</c> scenario: the Host in two durabilities × two endpoints, and a write-through endpoint.</summary>
internal static class HttpSystems
{
    public const string HostJournalSingle = "host-journal-single";
    public const string HostMemorySingle = "host-memory-single";
    public const string HostJournalFanOut = "host-journal-fanout";
    public const string HostMemoryFanOut = "host-memory-fanout";
    public const string WriteThrough = "http-write-through";

    /// <summary>Items in one <c>POST /counters/increments</c> request.</summary>
    public const int FanOutItems = 100;

    /// <summary>Every system, in interleaving order.</summary>
    public static readonly string[] All =
        [HostJournalSingle, HostMemorySingle, HostJournalFanOut, HostMemoryFanOut, WriteThrough];

    public static readonly IReadOnlyDictionary<string, string> Descriptions = new Dictionary<string, string>
    {
        [HostJournalSingle] = "the Host (src/Host, Release build, its own process, SQLite, default journal durability), " +
                              "POST /counters/{key}/increment, one increment a request",
        [HostMemorySingle] = "the same Host with --durability memory, one increment a request",
        [HostJournalFanOut] = $"the Host, journal durability, POST /counters/increments with {FanOutItems} items a request",
        [HostMemoryFanOut] = $"the Host, --durability memory, POST /counters/increments with {FanOutItems} items a request",
        [WriteThrough] = "a minimal ASP.NET endpoint (Kestrel on loopback, its own process, server GC like an ASP.NET app) " +
                         "with the same route and body: one autocommit UPDATE per request on SQLite (WAL, synchronous=FULL), " +
                         "one connection behind a lock (SQLite takes one writer at a time), 202 once committed",
    };

    /// <summary>Increments carried by one request of <paramref name="system"/>.</summary>
    public static int ItemsPerRequest(string system) => system is HostJournalFanOut or HostMemoryFanOut ? FanOutItems : 1;

    /// <summary>The Host's <c>--durability</c> of <paramref name="system"/>; <c>null</c>: the write-through endpoint.</summary>
    public static string? Durability(string system) => system switch
    {
        HostJournalSingle or HostJournalFanOut => "journal",
        HostMemorySingle or HostMemoryFanOut => "memory",
        _ => null,
    };
}
