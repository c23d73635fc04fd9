using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Hosting;
using Akka.WriteBehind;
using Akka.WriteBehind.Counters;
using Akka.WriteBehind.Host;
using Akka.WriteBehind.Host.Http;
using Akka.WriteBehind.Host.Observability;
using Akka.WriteBehind.Hosting;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

HostSettings settings;
try
{
    settings = HostSettings.Parse(args, Environment.GetEnvironmentVariables(), HostSettings.AppSettingsFile);
}
catch (HostSettingsException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    Console.Error.WriteLine();
    Console.Error.WriteLine(HostSettings.Usage);
    return 2;
}

if (settings.HelpRequested)
{
    Console.Out.WriteLine(HostSettings.Usage);
    return 0;
}

Akka.Configuration.Config fileConfig;
try
{
    fileConfig = AkkaNode.LoadFileConfig(settings.Store, settings.ConfigFile);
}
catch (Exception e) when (e is IOException or Akka.Configuration.ConfigurationException)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 1;
}

var builder = WebApplication.CreateBuilder(new WebApplicationOptions
{
    Args = [],
    ContentRootPath = AppContext.BaseDirectory,
});

builder.Logging.ClearProviders();
// one line per event by default; JSON lines (with the structured properties: CounterKey, FlushSeq, BatchId, StoreBatch,
// ...) when the environment sets Logging__Console__FormatterName=json
if (string.Equals(builder.Configuration["Logging:Console:FormatterName"], "json", StringComparison.OrdinalIgnoreCase))
{
    builder.Logging.AddJsonConsole(o =>
    {
        o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
        o.UseUtcTimestamp = true;
    });
}
else
{
    builder.Logging.AddSimpleConsole(o =>
    {
        o.SingleLine = true;
        o.TimestampFormat = "HH:mm:ss.fff ";
    });
}
builder.Logging.AddFilter("Microsoft", LogLevel.Warning);

// CoordinatedShutdown (leave, drain ingest, hand off and flush every entity) runs inside the host's stop
builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(90));
builder.WebHost.ConfigureKestrel(k =>
{
    k.Listen(settings.Network.HttpAddress, settings.HttpPort);
    // cluster bootstrap's contact point (GET /bootstrap/seed-nodes) on the Akka.Remote bind address
    if (settings.Network.Discovery != DiscoveryMode.SeedNodes)
        k.Listen(ManagementAddress(settings.Network.Hostname), settings.Network.ManagementPort);
    k.AddServerHeader = false;
});
builder.Services.AddSingleton<CounterGateway>();
builder.Services.AddSingleton<AccountGateway>();
builder.Services.AddSingleton<ItemGateway>();
builder.Services.AddSingleton(settings);
builder.Services.AddAkka(HostSettings.ActorSystemName, (akka, services) =>
{
    akka.ConfigureNode(settings, fileConfig);
    // /health and /ready: Akka.Hosting's liveness and cluster readiness checks and the library's store check
    akka.WithActorSystemLivenessCheck(tags: [HealthEndpoints.LiveTag]);
    akka.WithAkkaClusterReadinessCheck(tags: [HealthEndpoints.ReadyTag]);
    akka.WithWriteBehindStoreHealthCheck(tags: [HealthEndpoints.ReadyTag]);
    // Akka's log goes through Microsoft.Extensions.Logging (the console above), message template properties as fields
    akka.ConfigureLoggers(logging =>
    {
        logging.LogLevel = Akka.Event.LogLevel.InfoLevel;
        logging.ClearLoggers();
        logging.AddLogger<AkkaLoggerBridge>();
    });
    // warnings and errors of the node (store failures, ...) for /stats and the status page
    akka.WithActors((system, _) => RecentErrorsSubscription.Start(system, services.GetRequiredService<RecentErrors>()));
});

// observability: /metrics (Prometheus text, every instrument of the library's meter), /ready, /stats and the status page
builder.Services.AddSingleton<RecentErrors>();
builder.Services.AddSingleton<NodeMetrics>();
builder.Services.AddHostedService<NodeMetricsSampler>();
builder.Services.AddSingleton(sp => new StoreDescription(CounterStores.Describe(sp.GetRequiredService<ActorSystem>().Settings.Config)));
builder.Services.AddHealthChecks();
builder.Services.AddOpenTelemetry()
    .ConfigureResource(resource => resource.AddService("akka-writebehind", serviceInstanceId: $"{settings.Network.PublicHostname}:{settings.HttpPort}"))
    .WithMetrics(metrics => metrics
    .AddMeter(WriteBehindMetrics.MeterName)
    // the library's durations are in seconds: buckets from 1 ms to 60 s instead of the default (milliseconds) ones
    .AddView(instrument => instrument.Meter.Name == WriteBehindMetrics.MeterName && instrument.Unit == "s"
                           && instrument.GetType().Name.StartsWith("Histogram", StringComparison.Ordinal)
        ? new ExplicitBucketHistogramConfiguration { Boundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60] }
        : null)
    .AddPrometheusExporter());

var app = builder.Build();

// errors are JSON everywhere: unhandled exceptions and body-less statuses (404, 405, ...) included
app.UseExceptionHandler(error => error.Run(context =>
{
    var exception = context.Features.Get<IExceptionHandlerFeature>()?.Error;
    return ErrorMapping.Error(StatusCodes.Status500InternalServerError, ErrorMapping.InternalError,
        exception?.Message ?? "internal error").ExecuteAsync(context);
}));
app.UseStatusCodePages(context =>
{
    var status = context.HttpContext.Response.StatusCode;
    return ErrorMapping.Error(status, ErrorMapping.ForStatus(status),
        $"{context.HttpContext.Request.Method} {context.HttpContext.Request.Path}: HTTP {status}").ExecuteAsync(context.HttpContext);
});
app.UseApiSecurity(settings.Security, settings.Network);
app.MapCounters();
app.MapAccounts();
app.MapFanOut();
app.MapItems();
app.MapHealth();
if (settings.Network.Discovery != DiscoveryMode.SeedNodes)
    app.MapClusterBootstrap(settings.Network.ManagementPort);
app.MapObservability();
app.MapPrometheusScrapingEndpoint("/metrics");

try
{
    await app.StartAsync().ConfigureAwait(false);
}
catch (Exception e)
{
    // reported, not hidden: the process ends with exit code 1
    var cause = e.GetBaseException();
    var detail = cause.InnerException is { } inner ? $" ({inner.Message})" : "";
    Console.Error.WriteLine($"error: the node could not start: {cause.Message}{detail}");
    await app.DisposeAsync().ConfigureAwait(false);
    return 1;
}

var system = app.Services.GetRequiredService<ActorSystem>();
_ = app.Services.GetRequiredService<NodeMetrics>(); // listening from the start, not from the first /stats
var memberUp = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
Akka.Cluster.Cluster.Get(system).RegisterOnMemberUp(() => memberUp.TrySetResult());
var stopping = app.Lifetime.ApplicationStopping;
await Task.WhenAny(memberUp.Task, Task.Delay(Timeout.Infinite, stopping)).ConfigureAwait(false);
if (memberUp.Task.IsCompleted)
{
    var http = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
        ?? $"http://{settings.Network.HttpAddress}:{settings.HttpPort}";
    var akka = Akka.Cluster.Cluster.Get(system).SelfAddress;
    var store = app.Services.GetRequiredService<StoreDescription>().Text; // sqlite:<file> or postgres:<host>:<port>/<database>
    var durability = settings.Durability.ToString().ToLowerInvariant();
    var network = settings.Network;
    var discovery = network.Discovery switch
    {
        DiscoveryMode.Config => "config",
        DiscoveryMode.Kubernetes => "kubernetes",
        _ => settings.SeedNodes.IsEmpty ? "self" : "seed-nodes",
    };
    var auth = settings.Security.ApiKey is null ? "none" : "api-key";
    Console.Out.WriteLine($"Akka.WriteBehind node up: http={http} akka={akka} store={store} durability={durability} " +
                          $"hostname={network.Hostname} public-hostname={network.PublicHostname} discovery={discovery} auth={auth}");
}

await app.WaitForShutdownAsync().ConfigureAwait(false);
await app.DisposeAsync().ConfigureAwait(false);

// Akka.Hosting sets a non-zero exit code when the node was downed or left the cluster on its own
return Environment.ExitCode;

// the management endpoint binds where Akka.Remote does: an IP address as given, a host name as it resolves
static System.Net.IPAddress ManagementAddress(string hostname) =>
    System.Net.IPAddress.TryParse(hostname, out var address) ? address : System.Net.Dns.GetHostAddresses(hostname).First();
