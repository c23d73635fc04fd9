using System.Diagnostics;
using Akka.Actor;
using Akka.WriteBehind.Counters;

namespace Akka.WriteBehind.Benchmarks.Systems;

/// <summary>What the fast-path systems share: a one-node cluster (<see cref="OursNode"/>), its counter set, its rows and its end.</summary>
/// <param name="journal">Journal durability instead of memory.</param>
internal abstract class OursCounterTarget(bool journal) : IBenchTarget, IWarmUpSettle
{
    private protected static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan SettlePoll = TimeSpan.FromMilliseconds(200);

    private ActorSystem? _system;
    private CountingStore? _store;
    private string? _journalFile;

    public long RowsWritten => _store?.Rows ?? 0;

    /// <summary>The counter set, once started.</summary>
    private protected CounterSet Counters { get; private set; } = null!;

    public async Task StartAsync(string dbFile, Scenario scenario, string[] keys)
    {
        (_system, _store, var counters) = await OursNode.StartAsync(dbFile, scenario, journal);
        Counters = counters;
        _journalFile = journal ? OursNode.JournalFile(dbFile) : null;

        // warm-up outside the measurement: the shard region, one entity (with journal durability its shard log), one write
        await WarmUpAsync("warmup");
        await counters.Region.Ask<ICounterReply>(new FlushCounter("warmup"), AskTimeout);
    }

    public abstract Task<SendResult> SendAsync(string[] keys, int[] sequence, Pacer pacer, TimeSpan cap);

    /// <summary>
    /// With journal durability: waits until the shard log has deleted the warm-up's events (every journal.trim-interval,
    /// 10 s by default, from the log's start). A node that runs has trimmed long before; the first delete builds its query
    /// (about 1,700 methods compiled, a second of CPU), which otherwise lands in the measured round when it starts early.
    /// </summary>
    public async Task SettleAsync(TimeSpan limit)
    {
        if (_journalFile is null)
            return;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < limit && await RecoveryRound.JournalEventsAsync(_journalFile) > 0)
            await Task.Delay(SettlePoll);
    }

    public async ValueTask DisposeAsync()
    {
        if (_system is null)
            return;
        await _system.Terminate().WaitAsync(TimeSpan.FromSeconds(30));
    }

    /// <summary>One increment of <paramref name="key"/> the way the system sends them.</summary>
    private protected abstract Task WarmUpAsync(string key);
}
