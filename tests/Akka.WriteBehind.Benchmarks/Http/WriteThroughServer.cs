using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Akka.WriteBehind.Benchmarks.Http;

/// <summary>
/// <c>http-write-through</c>: what users build without write-behind, as small as it gets. A minimal ASP.NET app on
/// Kestrel (loopback, a free port) with the Host's route and body, <c>POST /counters/{key}/increment</c> with
/// <c>{"delta": n}</c>, doing one autocommit <c>UPDATE counters SET value = value + @d WHERE key = @k</c> per request on
/// SQLite (WAL, <c>synchronous=FULL</c>) and answering 202 once it committed (404 for a key without a row, 400 for a bad
/// body, 401 without the bearer token when one is set). One connection with a prepared statement behind a lock: SQLite
/// takes one writer at a time, and waiting on the lock costs less than SQLITE_BUSY retries.
/// </summary>
/// <remarks>
/// Run by <see cref="HttpRound"/> as its own process (this executable with <see cref="Command"/>), like the Host: its CPU
/// is measured on its own, and the load generator's threads and collections do not share a process with it.
/// </remarks>
internal static class WriteThroughServer
{
    /// <summary>First argument that runs this server instead of the benchmark.</summary>
    public const string Command = "serve-http-write-through";

    /// <summary>Printed once Kestrel listens, followed by the base address.</summary>
    public const string UpLinePrefix = "http-write-through up:";

    /// <summary>Environment variable holding the bearer token requests must carry; unset: none.</summary>
    public const string ApiKeyVariable = "WRITEBEHIND_BENCH_SERVER_API_KEY";

    /// <summary><c>serve-http-write-through &lt;sqlite file&gt;</c>: serves until SIGTERM.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length != 2 || !File.Exists(args[1]))
        {
            await Console.Error.WriteLineAsync($"usage: {Command} <existing SQLite file with the counters table>");
            return 64;
        }

        var apiKey = Environment.GetEnvironmentVariable(ApiKeyVariable) is { Length: > 0 } key ? "Bearer " + key : null;
        await using var connection = new SqliteConnection($"Data Source={args[1]};Pooling=False");
        await connection.OpenAsync();
        await using (var pragma = connection.CreateCommand())
        {
            pragma.CommandText = "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;";
            await pragma.ExecuteNonQueryAsync();
        }

        await using var update = connection.CreateCommand();
        update.CommandText = "UPDATE counters SET value = value + @d, updated_at = CURRENT_TIMESTAMP WHERE key = @k";
        var keyParameter = update.Parameters.Add("@k", SqliteType.Text);
        var deltaParameter = update.Parameters.Add("@d", SqliteType.Integer);
        update.Prepare();
        using var writer = new SemaphoreSlim(1, 1);

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, 0);
            k.AddServerHeader = false;
        });
        await using var app = builder.Build();
        app.MapPost("/counters/{key}/increment", async (string key, HttpContext context) =>
        {
            if (apiKey is not null && context.Request.Headers.Authorization != apiKey)
                return Results.StatusCode(StatusCodes.Status401Unauthorized);
            long delta;
            try
            {
                using var body = await JsonDocument.ParseAsync(context.Request.Body, default, context.RequestAborted);
                if (!body.RootElement.TryGetProperty("delta", out var element) || !element.TryGetInt64(out delta))
                    return Results.BadRequest();
            }
            catch (JsonException)
            {
                return Results.BadRequest();
            }

            int changed;
            await writer.WaitAsync(context.RequestAborted);
            try
            {
                keyParameter.Value = key;
                deltaParameter.Value = delta;
                changed = await update.ExecuteNonQueryAsync(CancellationToken.None);
            }
            finally
            {
                writer.Release();
            }

            return changed == 1
                ? Results.Text($"{{\"delta\":{delta}}}", "application/json", statusCode: StatusCodes.Status202Accepted)
                : Results.NotFound();
        });

        await app.StartAsync();
        Console.WriteLine($"{UpLinePrefix} {app.Urls.First()} server-gc={System.Runtime.GCSettings.IsServerGC}");
        await app.WaitForShutdownAsync();
        return 0;
    }
}
