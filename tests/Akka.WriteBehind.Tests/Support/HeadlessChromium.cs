using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Akka.WriteBehind.Tests.Support;

/// <summary>
/// A real headless Chromium (Debian package <c>chromium</c>) driven over the DevTools protocol: one page, its console errors,
/// uncaught exceptions and failed loads collected, and JavaScript evaluated in it. No browser download, no npm: the
/// protocol is JSON over a WebSocket. Fails (never skips) with how to install Chromium when it is missing.
/// </summary>
internal sealed class HeadlessChromium : IAsyncDisposable
{
    public const string InstallHint =
        "headless Chromium is needed by the status page test and is not installed: run `apt-get update && apt-get install -y chromium` " +
        "as root (.ci/run does this), or set CHROMIUM_PATH to a Chromium/Chrome executable";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(30);

    private readonly Process _process;
    private readonly string _profile;
    private readonly ClientWebSocket _socket = new();
    private readonly ConcurrentDictionary<int, TaskCompletionSource<JsonObject>> _calls = new();
    private readonly ConcurrentQueue<string> _problems = new();
    private readonly ConcurrentQueue<string> _output = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private Task _receiving = Task.CompletedTask;
    private int _nextId;

    private HeadlessChromium(Process process, string profile)
    {
        _process = process;
        _profile = profile;
    }

    /// <summary>Console errors, uncaught exceptions and failed resource loads of the page so far.</summary>
    public IReadOnlyCollection<string> Problems => _problems.ToArray();

    /// <summary>The Chromium executable: <c>CHROMIUM_PATH</c>, else the usual install locations; null when none exists.</summary>
    public static string? FindExecutable()
    {
        var configured = Environment.GetEnvironmentVariable("CHROMIUM_PATH");
        if (!string.IsNullOrEmpty(configured))
            return File.Exists(configured) ? configured : null;
        return new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome", "/usr/bin/google-chrome-stable" }
            .FirstOrDefault(File.Exists);
    }

    /// <summary>Starts Chromium on an empty profile and attaches to its first page.</summary>
    public static async Task<HeadlessChromium> StartAsync()
    {
        var executable = FindExecutable();
        if (executable is null)
            Assert.Fail(InstallHint);

        var profile = Path.Combine(Path.GetTempPath(), "akka-wb-chromium-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(profile);
        var start = new ProcessStartInfo(executable!)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[]
                 {
                     "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--disable-extensions", "--disable-dev-shm-usage",
                     "--user-data-dir=" + profile, "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", "about:blank",
                 })
            start.ArgumentList.Add(arg);

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var chromium = new HeadlessChromium(process, profile);
        var endpoint = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
                return;
            chromium._output.Enqueue(e.Data);
            const string marker = "DevTools listening on ";
            var at = e.Data.IndexOf(marker, StringComparison.Ordinal);
            if (at >= 0)
                endpoint.TrySetResult(e.Data[(at + marker.Length)..].Trim());
        };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
                chromium._output.Enqueue(e.Data);
        };
        process.Exited += (_, _) => endpoint.TrySetException(new InvalidOperationException("Chromium exited before it listened"));
        try
        {
            Assert.True(process.Start(), $"{executable} did not start");
            process.BeginErrorReadLine();
            process.BeginOutputReadLine();
            var finished = await Task.WhenAny(endpoint.Task, Task.Delay(StartTimeout));
            if (finished != endpoint.Task || endpoint.Task.IsFaulted)
                Assert.Fail($"Chromium ({executable}) did not open its DevTools endpoint within {StartTimeout}\n{chromium.Tail()}");

            // ws://127.0.0.1:<port>/devtools/browser/<id>: the page targets are listed at http://127.0.0.1:<port>/json/list
            var browser = new Uri(await endpoint.Task);
            using var http = new HttpClient { Timeout = CommandTimeout };
            var targets = JsonNode.Parse(await http.GetStringAsync($"http://{browser.Authority}/json/list"))!.AsArray();
            var page = targets.FirstOrDefault(t => (string?)t!["type"] == "page")
                       ?? throw new InvalidOperationException($"Chromium lists no page target: {targets.ToJsonString()}");
            await chromium._socket.ConnectAsync(new Uri((string)page["webSocketDebuggerUrl"]!), CancellationToken.None);
            chromium._receiving = Task.Run(chromium.ReceiveLoopAsync);
            await chromium.SendAsync("Runtime.enable");
            await chromium.SendAsync("Log.enable");
            await chromium.SendAsync("Page.enable");
            return chromium;
        }
        catch
        {
            await chromium.DisposeAsync();
            throw;
        }
    }

    /// <summary>Navigates the page to <paramref name="url"/> (returns when the navigation is committed).</summary>
    public async Task NavigateAsync(string url)
    {
        var result = await SendAsync("Page.navigate", new JsonObject { ["url"] = url });
        if (result["errorText"] is { } error)
            Assert.Fail($"Chromium could not load {url}: {error}");
    }

    /// <summary>Evaluates <paramref name="expression"/> in the page and returns its JSON value.</summary>
    public async Task<JsonNode?> EvaluateAsync(string expression)
    {
        var result = await SendAsync("Runtime.evaluate", new JsonObject { ["expression"] = expression, ["returnByValue"] = true });
        if (result["exceptionDetails"] is { } exception)
            Assert.Fail($"{expression} threw in the page: {exception.ToJsonString()}");
        return result["result"]?["value"]?.DeepClone();
    }

    public string Tail() => "--- Chromium output (last 30 lines) ---\n" + string.Join('\n', _output.TakeLast(30));

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            if (_socket.State == WebSocketState.Open)
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception e) when (e is WebSocketException or TimeoutException or OperationCanceledException)
        {
            // the browser goes away below anyway
        }

        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            }
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException)
        {
            // never started, or already gone
        }

        try
        {
            await _receiving.WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException or WebSocketException)
        {
            // the loop ends with the socket
        }

        _socket.Dispose();
        _process.Dispose();
        try
        {
            Directory.Delete(_profile, recursive: true);
        }
        catch (IOException)
        {
            // a file still held by an exiting child: left in the temp directory
        }
    }

    private async Task<JsonObject> SendAsync(string method, JsonObject? parameters = null)
    {
        var id = Interlocked.Increment(ref _nextId);
        var answer = new TaskCompletionSource<JsonObject>(TaskCreationOptions.RunContinuationsAsynchronously);
        _calls[id] = answer;
        var message = new JsonObject { ["id"] = id, ["method"] = method, ["params"] = parameters ?? new JsonObject() };
        var bytes = Encoding.UTF8.GetBytes(message.ToJsonString());
        await _sendLock.WaitAsync();
        try
        {
            await _socket.SendAsync(bytes, WebSocketMessageType.Text, true, CancellationToken.None);
        }
        finally
        {
            _sendLock.Release();
        }

        var finished = await Task.WhenAny(answer.Task, Task.Delay(CommandTimeout));
        if (finished != answer.Task)
            Assert.Fail($"Chromium did not answer {method} within {CommandTimeout}\n{Tail()}");
        return await answer.Task;
    }

    private async Task ReceiveLoopAsync()
    {
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        try
        {
            while (!_stop.IsCancellationRequested && _socket.State == WebSocketState.Open)
            {
                var received = await _socket.ReceiveAsync(buffer, _stop.Token);
                if (received.MessageType == WebSocketMessageType.Close)
                    break;
                message.Write(buffer, 0, received.Count);
                if (!received.EndOfMessage)
                    continue;
                var json = JsonNode.Parse(message.ToArray())!.AsObject();
                message.SetLength(0);
                Dispatch(json);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException)
        {
            // stopping, or the browser went away
        }

        foreach (var call in _calls.Values)
            call.TrySetException(new InvalidOperationException("the DevTools connection closed"));
    }

    private void Dispatch(JsonObject json)
    {
        if (json["id"] is { } id)
        {
            if (_calls.TryRemove((int)id, out var call))
            {
                if (json["error"] is { } error)
                    call.TrySetException(new InvalidOperationException($"DevTools error: {error.ToJsonString()}"));
                else
                    call.TrySetResult(json["result"]?.AsObject() ?? new JsonObject());
            }

            return;
        }

        var parameters = json["params"];
        var method = json["method"]?.ToString();
        if (method == "Runtime.consoleAPICalled" && parameters?["type"]?.ToString() is "error" or "assert")
        {
            var args = parameters!["args"]?.AsArray().Select(a => a?["value"]?.ToString() ?? a?["description"]?.ToString()) ?? [];
            _problems.Enqueue("console." + parameters["type"] + ": " + string.Join(" ", args));
        }
        else if (method == "Runtime.exceptionThrown")
        {
            var details = parameters?["exceptionDetails"];
            _problems.Enqueue("uncaught: " + (details?["exception"]?["description"]?.ToString() ?? details?["text"]?.ToString()));
        }
        else if (method == "Log.entryAdded" && parameters?["entry"]?["level"]?.ToString() == "error")
        {
            _problems.Enqueue("log: " + parameters["entry"]!["text"] + " " + parameters["entry"]!["url"]);
        }
    }
}
