using Akka.Cluster.Hosting;
using Akka.Hosting;
using Akka.Remote.Hosting;
using Akka.WriteBehind.Hosting;
using Akka.WriteBehind.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace Akka.WriteBehind.Tests.Hosting;

/// <summary>
/// The library's counter store check in a plain Akka.Hosting application (no Host): registered with
/// <c>WithWriteBehindStoreHealthCheck</c>, run by ASP.NET Core's <see cref="HealthCheckService"/>.
/// </summary>
public sealed class CounterStoreHealthCheckSpec
{
    [Fact]
    public async Task Should_be_healthy_when_the_store_answers_and_say_which_store()
    {
        using var dir = new TempDirectory();

        // the counters create their table; the check reads it through a store of its own
        var report = await CheckAsync("", builder => builder
            .AddStartup((system, _) => Cluster.Cluster.Get(system).Join(Cluster.Cluster.Get(system).SelfAddress))
            .WithWriteBehindCounters(options =>
            {
                options.SqliteDataDir = dir.Path;
                options.Durability = Akka.WriteBehind.Counters.CounterDurability.Memory;
            }));

        var entry = report.Entries[WriteBehindHealthCheckExtensions.CounterStoreCheckName];
        Assert.True(entry.Status == HealthStatus.Healthy, entry.Description);
        Assert.Equal("sqlite:" + dir.DatabaseFile, entry.Data[CounterStoreHealthCheck.StoreDataKey]);
        Assert.True((double)entry.Data[CounterStoreHealthCheck.LatencyDataKey] >= 0);
        Assert.Contains("ready", entry.Tags);
    }

    [Fact]
    public async Task Should_be_unhealthy_when_the_store_does_not_answer()
    {
        var closedPort = Host.HostProcess.FreeTcpPort(); // nothing listens there
        var report = await CheckAsync($$"""
            akka.write-behind.storage {
              provider = postgres
              postgres.connection-string = "Host=127.0.0.1;Port={{closedPort}};Database=none;Username=none;Timeout=1"
            }
            """, _ => { });

        var entry = report.Entries[WriteBehindHealthCheckExtensions.CounterStoreCheckName];
        Assert.Equal(HealthStatus.Unhealthy, entry.Status);
        Assert.Contains($"the counter store postgres:127.0.0.1:{closedPort}/none is not reachable", entry.Description);
    }

    private static async Task<HealthReport> CheckAsync(string storeHocon, Action<AkkaConfigurationBuilder> application)
    {
        using var host = new HostBuilder()
            .ConfigureServices(services =>
            {
                services.AddHealthChecks();
                services.AddAkka("store-health-spec", builder =>
                {
                    builder
                        .AddHocon("akka.coordinated-shutdown.run-by-clr-shutdown-hook = off", HoconAddMode.Prepend)
                        .AddHocon(storeHocon, HoconAddMode.Prepend)
                        .WithRemoting("127.0.0.1", 0)
                        .WithClustering()
                        .WithWriteBehindStoreHealthCheck();
                    application(builder);
                });
            })
            .Build();
        await host.StartAsync();
        try
        {
            return await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }
        finally
        {
            await host.StopAsync();
        }
    }
}
