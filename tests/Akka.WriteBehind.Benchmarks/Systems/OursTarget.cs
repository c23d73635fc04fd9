using System.Globalization;
using Akka.Actor;
using Akka.Configuration;
using Akka.WriteBehind.Counters;

namespace Akka.WriteBehind.Benchmarks.Systems;

/// <summary>
/// The library as users use it: a one-node cluster, <see cref="WriteBehindCounters.StartAsync"/> on a SQLite file, and
/// <see cref="Increment"/>s sent to the <c>CounterRegion</c> entry point by Tell or Ask.
/// </summary>
internal sealed class OursTarget(bool ask, bool journal) : IBenchTarget, ILiveEntities
{
    /// <summary>Asks in flight on the Ask path (a closed-loop client with this many concurrent callers).</summary>
    private const int AskWindow = 1_000;

    /// <summary>
    /// Tells between two barriers on the Tell path. Tell has no back-pressure signal: a producer that floods the ingest stage
    /// beyond <c>ingest.buffer-size</c> gets refusals it cannot hear (logged only). A real producer waits on something; here
    /// it is one Ask through the same ingest stage, which answers once everything before it reached its entity.
    /// </summary>
    private const int TellWindow = 50_000;

    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(60);

    private ActorSystem? _system;
    private CountingStore? _store;
    private IActorRef _region = ActorRefs.Nobody;
    private IActorRef _shardRegion = ActorRefs.Nobody;

    public long RowsWritten => _store?.Rows ?? 0;

    public async Task StartAsync(string dbFile, Scenario scenario, string[] keys)
    {
        (_system, _store, var counters) = await OursNode.StartAsync(dbFile, scenario, journal);
        _region = counters.Region;
        _shardRegion = counters.ShardRegion;

        // warm-up outside the measurement: the shard region, one entity, one write
        await _region.Ask<ICounterReply>(new Increment("warmup", 1), AskTimeout);
        await _region.Ask<ICounterReply>(new FlushCounter("warmup"), AskTimeout);
    }

    public Task<SendResult> SendAsync(string[] keys, int[] sequence, Pacer pacer, TimeSpan cap) =>
        ask ? SendAskAsync(keys, sequence, pacer, journal ? cap : TimeSpan.MaxValue) : SendTellAsync(keys, sequence, pacer);

    private async Task<SendResult> SendTellAsync(string[] keys, int[] sequence, Pacer pacer)
    {
        for (var i = 0; i < sequence.Length; i++)
        {
            pacer.Wait(i);
            _region.Tell(new Increment(keys[sequence[i]], 1), ActorRefs.NoSender);
            // idle-keys: also a barrier at the end of the first pass, so the pacer's mark is taken once every entity exists
            if ((i + 1) % TellWindow == 0 || i + 1 == pacer.MarkAt)
                await BarrierAsync(keys[sequence[i]]);
        }

        if (sequence.Length > 0)
            await BarrierAsync(keys[sequence[^1]]);
        return new SendResult(sequence.Length, sequence.Length, 0);
    }

    private async Task BarrierAsync(string key)
    {
        var reply = await _region.Ask<ICounterReply>(new GetCounter(key), AskTimeout);
        if (reply is CounterRejected rejected)
            throw new InvalidOperationException($"barrier refused: {rejected}");
    }

    /// <param name="cap">Journal durability persists every increment group (~10k events/s at best on SQLite): it stops sending after this long.</param>
    private async Task<SendResult> SendAskAsync(string[] keys, int[] sequence, Pacer pacer, TimeSpan cap)
    {
        using var window = new SemaphoreSlim(AskWindow, AskWindow);
        long accepted = 0, rejected = 0, failed = 0;
        Exception? firstFailure = null;
        long sent = 0;
        for (var i = 0; i < sequence.Length && pacer.Elapsed < cap; i++, sent++)
        {
            pacer.Wait(i);
            await window.WaitAsync();
            _ = _region.Ask<ICounterReply>(new Increment(keys[sequence[i]], 1), AskTimeout).ContinueWith(t =>
            {
                if (t.IsCompletedSuccessfully && t.Result is IncrementAccepted)
                    Interlocked.Increment(ref accepted);
                else if (t.IsCompletedSuccessfully)
                    Interlocked.Increment(ref rejected);
                else
                {
                    Interlocked.Increment(ref failed);
                    Interlocked.CompareExchange(ref firstFailure, t.Exception, null);
                }

                window.Release();
            }, TaskContinuationOptions.ExecuteSynchronously);
        }

        for (var i = 0; i < AskWindow; i++)
            await window.WaitAsync();
        if (failed > 0)
            throw new InvalidOperationException($"{failed} Asks had no answer (outcome unknown): {firstFailure?.GetBaseException().Message}");
        return new SendResult(sent, accepted, rejected);
    }

    public async Task<long> LiveEntitiesAsync()
    {
        var stats = await _shardRegion.Ask<Akka.Cluster.Sharding.ShardRegionStats>(Akka.Cluster.Sharding.GetShardRegionStats.Instance, AskTimeout);
        return stats.Stats.Values.Sum(n => (long)n);
    }

    public async ValueTask DisposeAsync()
    {
        if (_system is null)
            return;
        // the round is measured and verified: no graceful hand-off needed, only the files released
        await _system.Terminate().WaitAsync(TimeSpan.FromSeconds(30));
    }
}
