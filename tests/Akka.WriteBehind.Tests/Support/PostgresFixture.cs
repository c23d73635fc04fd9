using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Npgsql;

namespace Akka.WriteBehind.Tests.Support;

/// <summary>
/// A real PostgreSQL server for the specs of the <see cref="Collection"/> collection: the newest
/// <c>/usr/lib/postgresql/*/bin</c> of the machine, a fresh cluster (initdb, trust authentication, 127.0.0.1 only) in a
/// temporary directory on a free port, started once for the collection and stopped (<c>pg_ctl stop -m fast</c>) and deleted
/// when it is done. PostgreSQL refuses to run as root, so under root every server command runs as the <c>postgres</c> user
/// (<c>runuser -u postgres --</c>). Missing binaries fail every spec of the collection with a message saying how to install
/// them (<c>.ci/run</c> does): they are never skipped silently.
/// </summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    /// <summary>Name of the xunit collection whose specs share the server.</summary>
    public const string Collection = "PostgreSQL";

    private const string InstallDirectory = "/usr/lib/postgresql";
    private const string ServerUser = "postgres";
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(120);
    private int _databases;
    private string? _binDirectory;
    private string? _dataDirectory;

    /// <summary>The cluster's directory (data, socket, log).</summary>
    public string Directory { get; } = Path.Combine(Path.GetTempPath(), "akka-wb-pg-" + Guid.NewGuid().ToString("N"));

    /// <summary>The server's TCP port on 127.0.0.1.</summary>
    public int Port { get; private set; }

    /// <summary>The PostgreSQL version of the binaries in use, e.g. <c>15</c>.</summary>
    public string Version => Path.GetFileName(Path.GetDirectoryName(BinDirectory)!);

    private string BinDirectory => _binDirectory ?? throw new InvalidOperationException("the server is not started");

    private string DataDirectory => _dataDirectory ?? throw new InvalidOperationException("the server is not started");

    /// <summary>Connection string of <paramref name="database"/> as the superuser (trust authentication, no password).</summary>
    /// <param name="database">The database. <b>Default</b>: <c>postgres</c>.</param>
    public string ConnectionString(string database = "postgres") => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = Port,
        Username = ServerUser,
        Database = database,
        Timeout = 30,
        CommandTimeout = 60,
    }.ConnectionString;

    public async Task InitializeAsync()
    {
        _binDirectory = FindBinDirectory();
        System.IO.Directory.CreateDirectory(Directory);
        _dataDirectory = Path.Combine(Directory, "data");
        if (IsRoot)
            await RunAsync("chown", ServerUser, Directory); // initdb and the server run as postgres and write here

        await RunServerCommandAsync("initdb", "-D", DataDirectory, "-U", ServerUser, "--auth=trust", "--encoding=UTF8", "--no-locale", "--no-sync");

        // a free port can be taken by someone else before the server binds it: try a few
        for (var attempt = 1; ; attempt++)
        {
            Port = FreeTcpPort();
            try
            {
                await StartServerAsync();
                break;
            }
            catch (InvalidOperationException) when (attempt < 3)
            {
                // retried on another port; the log says why
            }
        }

        await using var connection = new NpgsqlConnection(ConnectionString());
        await connection.OpenAsync();
    }

    /// <summary>
    /// Stops the server (<c>pg_ctl stop -m fast</c>: open connections are cut) for an outage. Only for a fixture of the spec's
    /// own (<c>new PostgresFixture()</c>): the collection's server is shared by other specs.
    /// </summary>
    public Task StopServerAsync() =>
        RunServerCommandAsync("pg_ctl", "-D", DataDirectory, "-m", "fast", "-w", "-t", "60", "stop");

    /// <summary>Starts the server again after <see cref="StopServerAsync"/>, on the same port.</summary>
    public Task StartServerAsync() =>
        // fsync off: the specs crash the application, never the server, so durability on power loss is not under test
        RunServerCommandAsync("pg_ctl", "-D", DataDirectory, "-l", Path.Combine(Directory, "server.log"), "-w", "-t", "60",
            "-o", $"-p {Port} -k {Directory} -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off -c full_page_writes=off",
            "start");

    /// <summary>Creates a fresh, empty database; it is dropped with <see cref="PostgresDatabase.Dispose"/>.</summary>
    public PostgresDatabase CreateDatabase()
    {
        var name = $"wb_{Interlocked.Increment(ref _databases)}_{Guid.NewGuid().ToString("N")[..8]}";
        using (var connection = new NpgsqlConnection(ConnectionString()))
        {
            connection.Open();
            using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            create.ExecuteNonQuery();
        }

        return new PostgresDatabase(this, name);
    }

    internal void DropDatabase(string name)
    {
        NpgsqlConnection.ClearAllPools(); // idle pooled connections to it would otherwise stay open
        using var connection = new NpgsqlConnection(ConnectionString());
        connection.Open();
        using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", connection);
        drop.ExecuteNonQuery();
    }

    public async Task DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        try
        {
            if (_dataDirectory is not null && File.Exists(Path.Combine(_dataDirectory, "postmaster.pid")))
                await RunServerCommandAsync("pg_ctl", "-D", _dataDirectory, "-m", "fast", "-w", "-t", "60", "stop");
        }
        finally
        {
            try
            {
                System.IO.Directory.Delete(Directory, recursive: true);
            }
            catch (IOException)
            {
                // the OS cleans its temp directory
            }
        }
    }

    /// <summary>The newest <c>/usr/lib/postgresql/&lt;version&gt;/bin</c> with <c>initdb</c> and <c>pg_ctl</c>.</summary>
    private static string FindBinDirectory()
    {
        var candidates = System.IO.Directory.Exists(InstallDirectory)
            ? System.IO.Directory.GetDirectories(InstallDirectory)
                .Select(d => (Dir: Path.Combine(d, "bin"), Version: double.TryParse(Path.GetFileName(d), System.Globalization.CultureInfo.InvariantCulture, out var v) ? v : 0))
                .Where(c => File.Exists(Path.Combine(c.Dir, "pg_ctl")) && File.Exists(Path.Combine(c.Dir, "initdb")))
                .OrderByDescending(c => c.Version)
                .ToList()
            : [];
        if (candidates.Count == 0)
            throw new InvalidOperationException(
                $"No PostgreSQL server binaries (initdb, pg_ctl) under {InstallDirectory}/*/bin: the PostgreSQL specs need a real server. " +
                "Install it with `apt-get install -y postgresql` (.ci/run does this before the tests).");
        return candidates[0].Dir;
    }

    private static bool IsRoot => OperatingSystem.IsLinux() && geteuid() == 0;

    /// <summary>Runs a server binary: as the postgres user when this process is root (the server refuses root).</summary>
    private Task RunServerCommandAsync(string binary, params string[] args)
    {
        var path = Path.Combine(BinDirectory, binary);
        return IsRoot ? RunAsync("runuser", ["-u", ServerUser, "--", path, .. args]) : RunAsync(path, args);
    }

    private async Task RunAsync(string fileName, params string[] args)
    {
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Directory,
        };
        foreach (var arg in args)
            start.ArgumentList.Add(arg);

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{fileName} did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(CommandTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"{fileName} {string.Join(' ', args)} did not finish within {CommandTimeout}");
        }

        if (process.ExitCode != 0)
        {
            var log = Path.Combine(Directory, "server.log");
            var serverLog = File.Exists(log) ? "\n--- server.log ---\n" + string.Join('\n', File.ReadLines(log).TakeLast(30)) : "";
            throw new InvalidOperationException(
                $"{fileName} {string.Join(' ', args)} exited with {process.ExitCode}\n{await stdout}{await stderr}{serverLog}");
        }
    }

    private static int FreeTcpPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [DllImport("libc")]
    private static extern uint geteuid();
}

/// <summary>A database of the <see cref="PostgresFixture"/>'s server, dropped on dispose.</summary>
public sealed class PostgresDatabase : IDisposable
{
    private readonly PostgresFixture _server;

    internal PostgresDatabase(PostgresFixture server, string name)
    {
        _server = server;
        Name = name;
        ConnectionString = server.ConnectionString(name);
    }

    /// <summary>The database's name.</summary>
    public string Name { get; }

    /// <summary>Its connection string (superuser, no password).</summary>
    public string ConnectionString { get; }

    public void Dispose() => _server.DropDatabase(Name);
}

// DisableParallelization: the collection runs alone after the others, so that its load and crash specs do not starve the
// SQLite ones of CPU on a small machine (or the other way round)
[CollectionDefinition(PostgresFixture.Collection, DisableParallelization = true)]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>;
