using System.Diagnostics;
using Akka.Actor;
using Akka.Hosting;
using Akka.WriteBehind.Counters;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Akka.WriteBehind.Hosting;

/// <summary>
/// Readiness of the counter store: healthy when the configured store (<c>akka.write-behind.counters</c>) answers a read of one
/// key (<see cref="ProbeKey"/>, normally absent) within <see cref="Timeout"/>. The check's store is created once, on the first
/// check, next to the one the library writes with, and disposed with the actor system.
/// </summary>
/// <remarks>
/// Data of the result: <see cref="StoreDataKey"/> (the store without credentials, e.g. <c>postgres:db1:5432/app</c>) and
/// <see cref="LatencyDataKey"/> (milliseconds of the probe read).
/// </remarks>
public sealed class CounterStoreHealthCheck : IAkkaHealthCheck
{
    /// <summary>The key the check reads.</summary>
    public const string ProbeKey = "__readiness_probe__";

    /// <summary>Result data: the store's description.</summary>
    public const string StoreDataKey = "store";

    /// <summary>Result data: the probe read's latency in milliseconds.</summary>
    public const string LatencyDataKey = "storeLatencyMs";

    /// <summary>How long the store may take to answer the probe.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);

    private readonly object _gate = new();
    private ICounterStore? _store;
    private string? _description;

    /// <inheritdoc />
    public async Task<HealthCheckResult> CheckHealthAsync(AkkaHealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var (store, description) = StoreOf(context.ActorSystem);
        var data = new Dictionary<string, object> { [StoreDataKey] = description };
        var clock = Stopwatch.StartNew();
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(Timeout);
            await store.ReadAsync([ProbeKey], timeout.Token).WaitAsync(Timeout, cancellationToken).ConfigureAwait(false);
            data[LatencyDataKey] = Math.Round(clock.Elapsed.TotalMilliseconds, 3);
            return HealthCheckResult.Healthy($"the counter store {description} answers", data);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            var why = e is TimeoutException or OperationCanceledException ? $"no answer within {Timeout.TotalSeconds:0.#}s" : e.GetBaseException().Message;
            return new HealthCheckResult(context.Registration?.FailureStatus ?? HealthStatus.Unhealthy,
                $"the counter store {description} is not reachable: {why}", e, data);
        }
    }

    private (ICounterStore Store, string Description) StoreOf(ActorSystem system)
    {
        lock (_gate)
        {
            if (_store is null)
            {
                _description = CounterStores.Describe(system.Settings.Config);
                _store = CounterStores.FromConfig(system.Settings.Config);
                if (_store is IDisposable disposable)
                    system.RegisterOnTermination(disposable.Dispose); // a PostgreSQL store holds a connection pool
            }

            return (_store, _description!);
        }
    }
}

/// <summary><see cref="AkkaConfigurationBuilder"/> extensions that add the library's health checks.</summary>
public static class WriteBehindHealthCheckExtensions
{
    /// <summary>The check's name.</summary>
    public const string CounterStoreCheckName = "akka.write-behind.counter-store";

    /// <summary>
    /// Adds <see cref="CounterStoreHealthCheck"/> to the application's ASP.NET Core health checks (call
    /// <c>services.AddHealthChecks()</c> and map them, e.g. <c>MapHealthChecks("/ready", ...)</c> filtered by tag).
    /// </summary>
    /// <param name="builder">The builder.</param>
    /// <param name="tags">Tags of the check; <b>Default</b>: <c>ready</c>.</param>
    /// <returns>The same builder.</returns>
    public static AkkaConfigurationBuilder WithWriteBehindStoreHealthCheck(this AkkaConfigurationBuilder builder, IEnumerable<string>? tags = null) =>
        builder.WithHealthCheck(CounterStoreCheckName, new CounterStoreHealthCheck(), HealthStatus.Unhealthy, tags ?? ["ready"]);
}
