using System.Diagnostics;
using Akka.Actor;
using Akka.Cluster;
using Akka.WriteBehind.Storage;

namespace Akka.WriteBehind.Host.Observability;

/// <summary>
/// Readiness of a node (<c>GET /ready</c>): its cluster member is Up and its counter store answers a read of one key
/// (<see cref="ProbeKey"/>, normally absent) within <see cref="StoreTimeout"/>. The probe's store is created once from the
/// node's configuration, next to the one the library writes with.
/// </summary>
public sealed class ReadinessProbe(ActorSystem system) : IDisposable
{
    /// <summary>How long the store may take to answer the probe.</summary>
    public static readonly TimeSpan StoreTimeout = TimeSpan.FromSeconds(2);

    /// <summary>The key the probe reads.</summary>
    public const string ProbeKey = "__readiness_probe__";

    private readonly Lazy<ICounterStore> _store = new(() => CounterStores.FromConfig(system.Settings.Config));

    /// <summary>The counter store as the up line and <c>/stats</c> show it.</summary>
    public string StoreDescription { get; } = CounterStores.Describe(system.Settings.Config);

    /// <summary>Null when ready (with the store's latency); else why not.</summary>
    public async Task<(string? NotReady, TimeSpan StoreLatency)> CheckAsync(CancellationToken cancellationToken)
    {
        if (system.WhenTerminated.IsCompleted)
            return ("the actor system is terminated", TimeSpan.Zero);
        var self = Cluster.Cluster.Get(system).SelfMember;
        if (self.Status != MemberStatus.Up)
            return ($"this node's cluster member is {self.Status.ToString().ToLowerInvariant()}, not up", TimeSpan.Zero);

        var clock = Stopwatch.StartNew();
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(StoreTimeout);
            await _store.Value.ReadAsync([ProbeKey], timeout.Token).WaitAsync(StoreTimeout, cancellationToken).ConfigureAwait(false);
            return (null, clock.Elapsed);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            var why = e is TimeoutException or OperationCanceledException ? $"no answer within {StoreTimeout.TotalSeconds:0.#}s" : e.GetBaseException().Message;
            return ($"the counter store {StoreDescription} is not reachable: {why}", clock.Elapsed);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_store.IsValueCreated && _store.Value is IDisposable disposable)
            disposable.Dispose();
    }
}
