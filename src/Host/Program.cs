using Akka.Actor;
using Akka.Hosting;
using Akka.WriteBehind.Host;
using Akka.WriteBehind.Host.Http;
using Akka.WriteBehind.Storage;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

HostSettings settings;
try
{
    settings = HostSettings.Parse(args, Environment.GetEnvironmentVariables());
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
    fileConfig = AkkaNode.LoadFileConfig(settings.Store);
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
builder.Logging.AddSimpleConsole(o =>
{
    o.SingleLine = true;
    o.TimestampFormat = "HH:mm:ss.fff ";
});
builder.Logging.AddFilter("Microsoft", LogLevel.Warning);

// CoordinatedShutdown (leave, drain ingest, hand off and flush every entity) runs inside the host's stop
builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(90));
builder.WebHost.ConfigureKestrel(k =>
{
    k.Listen(System.Net.IPAddress.Parse(HostSettings.Hostname), settings.HttpPort);
    k.AddServerHeader = false;
});
builder.Services.AddSingleton<CounterGateway>();
builder.Services.AddSingleton<AccountGateway>();
builder.Services.AddSingleton<ItemGateway>();
builder.Services.AddSingleton(settings);
builder.Services.AddAkka(HostSettings.ActorSystemName, (akka, _) => akka.ConfigureNode(settings, fileConfig));

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
app.MapCounters();
app.MapAccounts();
app.MapItems();
app.MapHealth();

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
var memberUp = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
Akka.Cluster.Cluster.Get(system).RegisterOnMemberUp(() => memberUp.TrySetResult());
var stopping = app.Lifetime.ApplicationStopping;
await Task.WhenAny(memberUp.Task, Task.Delay(Timeout.Infinite, stopping)).ConfigureAwait(false);
if (memberUp.Task.IsCompleted)
{
    var http = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
        ?? $"http://{HostSettings.Hostname}:{settings.HttpPort}";
    var akka = Akka.Cluster.Cluster.Get(system).SelfAddress;
    var store = CounterStores.Describe(system.Settings.Config); // sqlite:<file> or postgres:<host>:<port>/<database>, no credentials
    var durability = settings.Durability.ToString().ToLowerInvariant();
    Console.Out.WriteLine($"Akka.WriteBehind node up: http={http} akka={akka} store={store} durability={durability}");
}

await app.WaitForShutdownAsync().ConfigureAwait(false);
await app.DisposeAsync().ConfigureAwait(false);

// Akka.Hosting sets a non-zero exit code when the node was downed or left the cluster on its own
return Environment.ExitCode;
