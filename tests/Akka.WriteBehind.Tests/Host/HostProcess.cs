using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.Data.Sqlite;

namespace Akka.WriteBehind.Tests.Host;

/// <summary>The built Host run as a real process on free ports; stopped with SIGTERM or SIGKILL.</summary>
internal sealed class HostProcess : IDisposable
{
    public const string UpLinePrefix = "Akka.WriteBehind node up:";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(90);
    private const int Sigterm = 15;
    private const int Sigkill = 9;

    private readonly ConcurrentQueue<string> _output = new();
    private readonly TaskCompletionSource<string> _upLine = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Process _process;

    private HostProcess(string dataDir, IEnumerable<string> options, int? httpPort = null, int? akkaPort = null,
        IReadOnlyDictionary<string, string>? environment = null, string address = DefaultAddress)
    {
        HttpPort = httpPort ?? FreeTcpPort();
        AkkaPort = akkaPort ?? FreeTcpPort();
        Address = address;
        if (address != DefaultAddress)
            options = options.Concat(["--hostname", address, "--http-address", address]);
        var start = new ProcessStartInfo(DotnetExecutable())
        {
            WorkingDirectory = dataDir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { HostAssemblyPath(), "--http-port", HttpPort.ToString(), "--akka-port", AkkaPort.ToString(), "--data-dir", dataDir }
                     .Concat(options))
            start.ArgumentList.Add(arg);
        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("WRITEBEHIND_", StringComparison.Ordinal)).ToList())
            start.Environment.Remove(name);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
            start.Environment[name] = value;

        _process = new Process { StartInfo = start, EnableRaisingEvents = true };
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
                return;
            _output.Enqueue(e.Data);
            if (e.Data.StartsWith(UpLinePrefix, StringComparison.Ordinal))
                _upLine.TrySetResult(e.Data);
        };
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
                _output.Enqueue("stderr: " + e.Data);
        };
        _process.Exited += (_, _) => _upLine.TrySetException(new InvalidOperationException("the Host exited before it was up"));
        Assert.True(_process.Start(), "the Host process did not start");
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public const string DefaultAddress = "127.0.0.1";

    public int HttpPort { get; }

    /// <summary>The address the Host binds its HTTP API and Akka.Remote to.</summary>
    public string Address { get; }

    public int AkkaPort { get; }

    public int ExitCode => _process.ExitCode;

    /// <summary>Starts the Host on <paramref name="dataDir"/> with extra <paramref name="options"/> and waits for its up line.</summary>
    public static Task<(HostProcess Host, string UpLine)> StartAsync(string dataDir, params string[] options) =>
        StartAsync(dataDir, null, null, null, options);

    /// <summary>
    /// Starts the Host on <paramref name="dataDir"/> on the given ports (free ones when null), e.g. the ports that every node of
    /// a cluster lists in its seed nodes, or a killed node's ports to restart it; waits for its up line.
    /// </summary>
    public static Task<(HostProcess Host, string UpLine)> StartAsync(string dataDir, int? httpPort, int? akkaPort, params string[] options) =>
        StartAsync(dataDir, httpPort, akkaPort, null, options);

    /// <summary>Starts the Host with extra environment variables (e.g. <c>Logging__Console__FormatterName=json</c>).</summary>
    public static Task<(HostProcess Host, string UpLine)> StartAsync(string dataDir, IReadOnlyDictionary<string, string>? environment,
        params string[] options) =>
        StartAsync(dataDir, null, null, environment, options);

    /// <summary>
    /// Starts the Host bound to <paramref name="address"/> (<c>--hostname</c> and <c>--http-address</c>), e.g. one of
    /// 127.0.0.2, .3, .4 for a cluster whose nodes share their ports as machines would; waits for its up line.
    /// </summary>
    public static Task<(HostProcess Host, string UpLine)> StartOnAsync(string dataDir, string address, int httpPort, int akkaPort,
        params string[] options) =>
        StartAsync(dataDir, httpPort, akkaPort, null, options, address);

    /// <summary>Starts the Host without waiting for its up line (a node expected never to come up).</summary>
    public static HostProcess Launch(string dataDir, params string[] options) => new(dataDir, options);

    /// <summary>Runs the Host with <paramref name="options"/> that make it refuse to start; returns its exit code and output.</summary>
    public static async Task<(int ExitCode, string Output)> RunToExitAsync(string dataDir, params string[] options)
    {
        using var host = new HostProcess(dataDir, options);
        await host.WaitForExitAsync();
        host._process.WaitForExit(); // the output is read to its end
        return (host._process.ExitCode, string.Join('\n', host._output));
    }

    private static async Task<(HostProcess Host, string UpLine)> StartAsync(string dataDir, int? httpPort, int? akkaPort,
        IReadOnlyDictionary<string, string>? environment, string[] options, string address = DefaultAddress)
    {
        var host = new HostProcess(dataDir, options, httpPort, akkaPort, environment, address);
        var finished = await Task.WhenAny(host._upLine.Task, Task.Delay(StartTimeout));
        if (finished != host._upLine.Task)
            Assert.Fail($"no '{UpLinePrefix}' line within {StartTimeout}\n{host.Tail()}");
        if (host._upLine.Task.IsFaulted)
        {
            await host._process.WaitForExitAsync();
            Assert.Fail($"the Host exited with code {host._process.ExitCode} before it was up\n{host.Tail()}");
        }

        return (host, await host._upLine.Task);
    }

    public HttpClient CreateClient(int concurrency) =>
        new(new SocketsHttpHandler { MaxConnectionsPerServer = concurrency })
        {
            BaseAddress = new Uri($"http://{Address}:{HttpPort}/"),
            Timeout = TimeSpan.FromSeconds(30),
        };

    /// <summary>SIGTERM, then waits for the exit.</summary>
    public async Task StopAsync()
    {
        Assert.Equal(0, kill(_process.Id, Sigterm));
        await WaitForExitAsync();
    }

    /// <summary>SIGKILL: the process dies at once, nothing flushes.</summary>
    public async Task KillAsync()
    {
        Assert.Equal(0, kill(_process.Id, Sigkill));
        await WaitForExitAsync();
    }

    /// <summary>Every line the Host wrote so far (stderr lines prefixed <c>stderr: </c>).</summary>
    public IReadOnlyCollection<string> Output => _output.ToArray();

    public string Tail() => "--- Host output (last 60 lines) ---\n" + string.Join('\n', _output.TakeLast(60));

    /// <summary>Whether some line of the output so far contains <paramref name="text"/>.</summary>
    public bool OutputContains(string text) => _output.Any(line => line.Contains(text, StringComparison.Ordinal));

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // never started or already reaped
        }

        _process.Dispose();
    }

    /// <summary>Every row of the counters table; each must have a positive applied_seq.</summary>
    public static Dictionary<string, long> ReadCounters(string databaseFile)
    {
        var rows = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (key, value, appliedSeq) in Query(databaseFile, "SELECT key, value, applied_seq FROM counters",
                     r => (r.GetString(0), r.GetInt64(1), r.GetInt64(2))))
        {
            Assert.True(appliedSeq > 0, $"{key} has applied_seq {appliedSeq}");
            rows.Add(key, value);
        }

        return rows;
    }

    /// <summary>The persistence ids with rows in the journal table of <paramref name="journalFile"/>.</summary>
    public static string[] ReadJournalPersistenceIds(string journalFile) =>
        Query(journalFile, "SELECT DISTINCT persistence_id FROM journal ORDER BY persistence_id", r => r.GetString(0)).ToArray();

    private static List<T> Query<T>(string databaseFile, string sql, Func<SqliteDataReader, T> row)
    {
        Assert.True(File.Exists(databaseFile), $"{databaseFile} does not exist");
        var connectionString = new SqliteConnectionStringBuilder { DataSource = databaseFile, Pooling = false }.ToString();
        using var connection = new SqliteConnection(connectionString);
        connection.Open();
        using var select = connection.CreateCommand();
        select.CommandText = sql;
        using var reader = select.ExecuteReader();
        var rows = new List<T>();
        while (reader.Read())
            rows.Add(row(reader));
        return rows;
    }

    private async Task WaitForExitAsync()
    {
        using var exit = new CancellationTokenSource(ExitTimeout);
        try
        {
            await _process.WaitForExitAsync(exit.Token);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"the Host did not exit within {ExitTimeout}\n{Tail()}");
        }
    }

    /// <summary>A TCP port on 127.0.0.1 that is free now and that this process has not handed out before.</summary>
    public static int FreeTcpPort()
    {
        // the kernel may hand the same free port to two binds in a row once the first is released: a Host then got one port
        // for HTTP and Akka and failed to start. Ports are never handed out twice by this process.
        while (true)
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            lock (HandedOut)
            {
                if (HandedOut.Add(port))
                    return port;
            }
        }
    }

    private static readonly HashSet<int> HandedOut = new();

    /// <summary>The Host built next to this test assembly: tests/…/bin/&lt;Config&gt;/&lt;tfm&gt; → src/Host/bin/&lt;Config&gt;/&lt;tfm&gt;.</summary>
    private static string HostAssemblyPath()
    {
        var tfm = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var configuration = tfm.Parent?.Name ?? throw new InvalidOperationException($"unexpected test directory {tfm.FullName}");
        var dll = Path.Combine(RepositoryRoot(), "src", "Host", "bin", configuration, tfm.Name, "Akka.WriteBehind.Host.dll");
        Assert.True(File.Exists(dll), $"{dll} is missing; build src/Host in {configuration} first");
        return dll;
    }

    /// <summary>The directory holding Akka.WriteBehind.sln, above this test assembly.</summary>
    public static string RepositoryRoot()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Akka.WriteBehind.sln")))
            root = root.Parent;
        Assert.True(root is not null, $"no Akka.WriteBehind.sln above {AppContext.BaseDirectory}");
        return root!.FullName;
    }

    private static string DotnetExecutable()
    {
        var hostPath = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(hostPath) && File.Exists(hostPath))
            return hostPath;
        var processPath = Environment.ProcessPath;
        return processPath is not null && Path.GetFileNameWithoutExtension(processPath) == "dotnet" ? processPath : "dotnet";
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);
}
