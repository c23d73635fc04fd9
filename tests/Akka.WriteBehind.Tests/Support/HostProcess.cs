using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace Akka.WriteBehind.Tests.Support;

/// <summary>
/// The built Host run as a real process on free ports with a temporary data directory (deleted on dispose, the process
/// killed if it still runs), stopped with SIGTERM.
/// </summary>
internal sealed class HostProcess : IDisposable
{
    public const string UpLinePrefix = "Akka.WriteBehind node up:";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private const int Sigterm = 15;

    private readonly ConcurrentQueue<string> _output = new();
    private readonly TaskCompletionSource<string> _upLine = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Process? _process;

    public HostProcess()
    {
        DataDir = Path.Combine(Path.GetTempPath(), "akka-wb-host-e2e", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(DataDir);
    }

    public string DataDir { get; }

    public string DatabaseFile => Path.Combine(DataDir, "writebehind.db");

    public int HttpPort { get; } = FreeTcpPort();

    public int AkkaPort { get; } = FreeTcpPort();

    public Process Process => _process ?? throw new InvalidOperationException("not started");

    /// <summary>Starts the Host with <c>--http-port</c>, <c>--akka-port</c>, <c>--data-dir</c> and <paramref name="options"/>, and waits for its up line.</summary>
    /// <returns>The up line.</returns>
    public async Task<string> StartAsync(params string[] options)
    {
        Assert.True(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS(), "the Host is stopped with SIGTERM");
        var start = new ProcessStartInfo(DotnetExecutable())
        {
            WorkingDirectory = DataDir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[]
                 {
                     HostAssemblyPath(),
                     "--http-port", HttpPort.ToString(), "--akka-port", AkkaPort.ToString(), "--data-dir", DataDir,
                 }.Concat(options))
            start.ArgumentList.Add(arg);
        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("WRITEBEHIND_", StringComparison.Ordinal)).ToList())
            start.Environment.Remove(name);

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
                return;
            _output.Enqueue(e.Data);
            if (e.Data.StartsWith(UpLinePrefix, StringComparison.Ordinal))
                _upLine.TrySetResult(e.Data);
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
                _output.Enqueue("stderr: " + e.Data);
        };
        process.Exited += (_, _) => _upLine.TrySetException(new InvalidOperationException("the Host exited before it was up"));

        Assert.True(process.Start(), "the Host process did not start");
        _process = process;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var finished = await Task.WhenAny(_upLine.Task, Task.Delay(StartTimeout));
        if (finished != _upLine.Task)
            Assert.Fail($"no '{UpLinePrefix}' line within {StartTimeout}\n{Tail()}");
        if (_upLine.Task.IsFaulted)
        {
            await process.WaitForExitAsync();
            Assert.Fail($"the Host exited with code {process.ExitCode} before it was up\n{Tail()}");
        }

        return await _upLine.Task;
    }

    /// <summary>An HTTP client for the Host's API.</summary>
    public HttpClient CreateClient(int maxConnections) => new(new SocketsHttpHandler { MaxConnectionsPerServer = maxConnections })
    {
        BaseAddress = new Uri($"http://127.0.0.1:{HttpPort}/"),
        Timeout = TimeSpan.FromSeconds(30),
    };

    /// <summary>Sends SIGTERM and waits for the process to exit.</summary>
    /// <returns>The exit code.</returns>
    public async Task<int> StopAsync(TimeSpan timeout)
    {
        var process = Process;
        Assert.Equal(0, kill(process.Id, Sigterm));
        using var exit = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(exit.Token);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"the Host did not exit within {timeout} of SIGTERM\n{Tail()}");
        }

        return process.ExitCode;
    }

    /// <summary>The last lines the process wrote, for failure messages.</summary>
    public string Tail() => "--- Host output (last 60 lines) ---\n" + string.Join('\n', _output.TakeLast(60));

    /// <summary>Opens the Host's database read-only (after it exited, or alongside it: WAL).</summary>
    public SqliteConnection OpenDatabase()
    {
        Assert.True(File.Exists(DatabaseFile), $"{DatabaseFile} does not exist");
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = DatabaseFile, Pooling = false }.ToString());
        connection.Open();
        return connection;
    }

    public void Dispose()
    {
        if (_process is { } process)
        {
            try
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                    process.WaitForExit(10_000);
                }
            }
            catch (InvalidOperationException)
            {
                // never started or already reaped
            }

            process.Dispose();
        }

        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(DataDir, recursive: true);
        }
        catch (IOException)
        {
            // still in use; the OS cleans its temp directory
        }
    }

    private static int FreeTcpPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The Host built next to this test assembly: tests/…/bin/&lt;Config&gt;/&lt;tfm&gt; → src/Host/bin/&lt;Config&gt;/&lt;tfm&gt;.</summary>
    private static string HostAssemblyPath()
    {
        var tfm = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var configuration = tfm.Parent?.Name ?? throw new InvalidOperationException($"unexpected test directory {tfm.FullName}");
        var root = tfm;
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Akka.WriteBehind.sln")))
            root = root.Parent;
        Assert.True(root is not null, $"no Akka.WriteBehind.sln above {tfm.FullName}");

        var dll = Path.Combine(root!.FullName, "src", "Host", "bin", configuration, tfm.Name, "Akka.WriteBehind.Host.dll");
        Assert.True(File.Exists(dll), $"{dll} is missing; build src/Host in {configuration} first");
        return dll;
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

/// <summary>JSON requests to the Host's API and the checks every response gets.</summary>
internal static class HostHttp
{
    public static Task<HttpResponseMessage> PostAsync(HttpClient http, string path, string? body) =>
        http.PostAsync(path, body is null ? null : new StringContent(body, Encoding.UTF8, "application/json"));

    public static async Task<JsonElement> GetJsonAsync(HttpClient http, string path, HttpStatusCode status)
    {
        using var response = await http.GetAsync(path);
        return await ReadJsonAsync(response, status);
    }

    public static async Task<JsonElement> PostJsonAsync(HttpClient http, string path, string? body, HttpStatusCode status)
    {
        using var response = await PostAsync(http, path, body);
        return await ReadJsonAsync(response, status);
    }

    public static async Task<JsonElement> ReadJsonAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"{response.RequestMessage?.RequestUri}: expected {(int)status}, got {(int)response.StatusCode} {text}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    public static async Task AssertErrorAsync(Task<HttpResponseMessage> request, HttpStatusCode status, string error)
    {
        using var response = await request;
        var json = await ReadJsonAsync(response, status);
        Assert.Equal(error, json.GetProperty("error").GetString());
        Assert.False(string.IsNullOrWhiteSpace(json.GetProperty("message").GetString()));
    }
}
