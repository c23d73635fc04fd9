using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

namespace Akka.WriteBehind.Benchmarks.Http;

/// <summary>
/// A server of the http scenario in its own process: started, awaited until it prints its up line (which names the HTTP
/// address it bound, port 0 giving a free one), stopped with SIGTERM (the Host flushes on it), killed if it does not stop.
/// </summary>
internal sealed partial class ServerProcess : IDisposable
{
    private const int Sigterm = 15;
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(90);

    private readonly ConcurrentQueue<string> _output = new();
    private readonly TaskCompletionSource<Uri> _up = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Process _process;

    private ServerProcess(ProcessStartInfo start, string upLinePrefix)
    {
        _process = new Process { StartInfo = start, EnableRaisingEvents = true };
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
                return;
            _output.Enqueue(e.Data);
            if (e.Data.StartsWith(upLinePrefix, StringComparison.Ordinal) && HttpAddress().Match(e.Data) is { Success: true } m)
                _up.TrySetResult(new Uri(m.Groups[1].Value.TrimEnd('/') + "/"));
        };
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
                _output.Enqueue("stderr: " + e.Data);
        };
        _process.Exited += (_, _) => _up.TrySetException(new InvalidOperationException("the server exited before it was up"));
        if (!_process.Start())
            throw new InvalidOperationException($"could not start {start.FileName}");
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>Base address of the HTTP API, from the up line.</summary>
    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>CPU time of the server process so far.</summary>
    public TimeSpan Cpu
    {
        get
        {
            _process.Refresh();
            return _process.TotalProcessorTime;
        }
    }

    /// <summary>Peak working set of the server process so far, MB.</summary>
    public double PeakWorkingSetMb
    {
        get
        {
            _process.Refresh();
            return _process.PeakWorkingSet64 / (1024.0 * 1024.0);
        }
    }

    /// <summary>
    /// Starts <paramref name="start"/> and waits until a line starting with <paramref name="upLinePrefix"/> names its
    /// <c>http://</c> address.
    /// </summary>
    public static async Task<ServerProcess> StartAsync(ProcessStartInfo start, string upLinePrefix)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        var server = new ServerProcess(start, upLinePrefix);
        try
        {
            var finished = await Task.WhenAny(server._up.Task, Task.Delay(StartTimeout));
            if (finished != server._up.Task)
                throw new InvalidOperationException(
                    $"no '{upLinePrefix}' line within {StartTimeout.TotalSeconds:0} s\n{server.Tail()}");
            if (server._up.Task.IsFaulted)
            {
                await server._process.WaitForExitAsync();
                throw new InvalidOperationException(
                    $"the server exited with code {server._process.ExitCode} before it was up\n{server.Tail()}");
            }

            server.BaseAddress = await server._up.Task;
            return server;
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    /// <summary>SIGTERM, then waits for the exit; returns the exit code. Throws when the server does not exit in time.</summary>
    public async Task<int> StopAsync()
    {
        if (!_process.HasExited && kill(_process.Id, Sigterm) != 0)
            throw new InvalidOperationException($"kill -TERM {_process.Id} failed (errno {Marshal.GetLastPInvokeError()})");
        using var timeout = new CancellationTokenSource(StopTimeout);
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            throw new InvalidOperationException(
                $"the server did not exit within {StopTimeout.TotalSeconds:0} s of SIGTERM\n{Tail()}");
        }

        return _process.ExitCode;
    }

    /// <summary>The server's last lines (stderr prefixed), for a failed round's message.</summary>
    public string Tail(int lines = 40) =>
        $"--- server output (last {lines} lines) ---\n" + string.Join('\n', _output.TakeLast(lines));

    /// <summary>Every line the server wrote so far.</summary>
    public IReadOnlyCollection<string> Output => _output.ToArray();

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

    [GeneratedRegex(@"(?:http=|\s)(http://[^\s]+)")]
    private static partial Regex HttpAddress();

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);
}
