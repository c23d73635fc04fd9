using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using PuppeteerSharp;

namespace Akka.WriteBehind.Tests.Support;

/// <summary>
/// The system's headless Chromium (Debian package <c>chromium</c>, or <c>CHROMIUM_PATH</c>) driven through PuppeteerSharp:
/// one page, its console errors, uncaught exceptions and failed loads collected, JavaScript evaluated in it, screenshots
/// taken. Nothing is downloaded. Fails (never skips) with how to install Chromium when it is missing.
/// </summary>
internal sealed class HeadlessChromium : IAsyncDisposable
{
    public const string InstallHint =
        "headless Chromium is needed by the status page test and is not installed: run scripts/test.sh (it installs it), " +
        "or `apt-get update && apt-get install -y chromium` as root, or set CHROMIUM_PATH to a Chromium/Chrome executable";

    private readonly IBrowser _browser;
    private readonly IPage _page;
    private readonly string _profile;
    private readonly ConcurrentQueue<string> _problems = new();

    private HeadlessChromium(IBrowser browser, IPage page, string profile)
    {
        _browser = browser;
        _page = page;
        _profile = profile;
        page.Console += (_, e) =>
        {
            if (e.Message.Type == ConsoleType.Error)
                _problems.Enqueue($"console.error: {e.Message.Text}");
        };
        page.PageError += (_, e) => _problems.Enqueue($"uncaught: {e.Message}");
        page.RequestFailed += (_, e) => _problems.Enqueue($"failed to load {e.Request.Url}: {e.Request.FailureText}");
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

    /// <summary>Starts Chromium on an empty profile with one page; <paramref name="headers"/> go with every request of it.</summary>
    public static async Task<HeadlessChromium> StartAsync(IDictionary<string, string>? headers = null)
    {
        var executable = FindExecutable();
        if (executable is null)
            Assert.Fail(InstallHint);

        var profile = Path.Combine(Path.GetTempPath(), "akka-wb-chromium-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(profile);
        var browser = await Puppeteer.LaunchAsync(new LaunchOptions
        {
            ExecutablePath = executable,
            Headless = true,
            UserDataDir = profile,
            Args =
            [
                "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--disable-extensions", "--disable-dev-shm-usage",
            ],
        });
        var page = await browser.NewPageAsync();
        await page.SetViewportAsync(new ViewPortOptions { Width = 1280, Height = 900 });
        if (headers is not null)
            await page.SetExtraHttpHeadersAsync(new Dictionary<string, string>(headers));
        return new HeadlessChromium(browser, page, profile);
    }

    /// <summary>Opens <paramref name="url"/> and waits for its load event.</summary>
    public Task NavigateAsync(string url) => _page.GoToAsync(url, WaitUntilNavigation.Load);

    /// <summary>The value of a JavaScript expression, as JSON.</summary>
    public async Task<JsonNode?> EvaluateAsync(string expression)
    {
        var value = await _page.EvaluateExpressionAsync<JsonElement>(expression);
        return JsonNode.Parse(value.GetRawText());
    }

    /// <summary>A PNG of the whole page, written to <paramref name="file"/> (its directory is created).</summary>
    public async Task ScreenshotAsync(string file)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(file))!);
        await _page.ScreenshotAsync(file, new ScreenshotOptions { FullPage = true });
    }

    public async ValueTask DisposeAsync()
    {
        await _browser.CloseAsync();
        await _browser.DisposeAsync();
        try
        {
            Directory.Delete(_profile, recursive: true);
        }
        catch (IOException)
        {
            // Chromium may still hold a file for a moment; the OS cleans its temp directory
        }
    }
}
