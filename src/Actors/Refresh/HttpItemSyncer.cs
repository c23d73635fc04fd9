using System.Net;
using System.Text;
using System.Text.Json;

namespace Akka.WriteBehind.Refresh;

/// <summary>
/// A ready <see cref="IItemSyncer"/> for items whose truth is a JSON document served over HTTP: for each item it GETs the
/// URL template with <c>{id}</c> replaced by the escaped id (the batch's items concurrently) and maps the answer:
/// <list type="bullet">
/// <item><c>200</c> with a JSON body → the body (compacted, see <see cref="JsonState.Normalize"/>) is the item's new state:
/// <see cref="SyncUnchanged"/> when it equals the cached state, else <see cref="SyncUpdated"/>. The item is terminal when
/// the body is an object whose <see cref="TerminalProperty"/> (default <c>"terminal"</c>) is <c>true</c>: then it is no
/// longer polled.</item>
/// <item><c>404</c> or <c>410</c> → <see cref="SyncDeleted"/> (the upstream no longer knows the item).</item>
/// <item>any other status, a body that is not JSON or is larger than <see cref="MaxBodyBytes"/>, or a transport error →
/// <see cref="SyncFailed"/> with the reason (retried next cycle).</item>
/// </list>
/// </summary>
public sealed class HttpItemSyncer : IItemSyncer
{
    /// <summary>The placeholder of the id in the URL template.</summary>
    public const string IdPlaceholder = "{id}";

    /// <summary>Largest body accepted, in bytes (1 MiB).</summary>
    public const int MaxBodyBytes = 1 << 20;

    private readonly HttpClient _http;

    /// <summary>Creates the syncer.</summary>
    /// <param name="http">The client (its <c>Timeout</c> bounds each GET; the sync-timeout bounds the batch).</param>
    /// <param name="urlTemplate">An absolute http(s) URL containing <c>{id}</c>, e.g. <c>http://127.0.0.1:9000/jobs/{id}</c>.</param>
    /// <param name="terminalProperty">The JSON property that marks a terminal state when <c>true</c>. <b>Default</b>: <c>terminal</c>.</param>
    /// <exception cref="ArgumentException">The template is not such a URL.</exception>
    public HttpItemSyncer(HttpClient http, string urlTemplate, string terminalProperty = "terminal")
    {
        _http = http ?? throw new ArgumentNullException(nameof(http));
        if (!IsValidTemplate(urlTemplate, out var why))
            throw new ArgumentException(why, nameof(urlTemplate));
        if (string.IsNullOrEmpty(terminalProperty))
            throw new ArgumentException("The terminal property must not be empty.", nameof(terminalProperty));
        UrlTemplate = urlTemplate;
        TerminalProperty = terminalProperty;
    }

    /// <summary>The URL template.</summary>
    public string UrlTemplate { get; }

    /// <summary>The JSON property that marks a terminal state.</summary>
    public string TerminalProperty { get; }

    /// <summary>Whether <paramref name="template"/> is an absolute http(s) URL containing <c>{id}</c>.</summary>
    /// <param name="template">The template.</param>
    /// <param name="why">Why not, or <c>null</c>.</param>
    public static bool IsValidTemplate(string? template, out string? why)
    {
        why = null;
        if (string.IsNullOrWhiteSpace(template) || !template.Contains(IdPlaceholder, StringComparison.Ordinal))
            why = $"the URL template must contain {IdPlaceholder}, e.g. http://127.0.0.1:9000/jobs/{IdPlaceholder}";
        else if (!Uri.TryCreate(template.Replace(IdPlaceholder, "x", StringComparison.Ordinal), UriKind.Absolute, out var uri)
                 || uri.Scheme is not ("http" or "https"))
            why = $"'{template}' is not an absolute http or https URL";
        return why is null;
    }

    /// <summary>The URL of the item <paramref name="id"/>.</summary>
    /// <param name="id">The item's id.</param>
    public string UrlOf(string id) => UrlTemplate.Replace(IdPlaceholder, Uri.EscapeDataString(id), StringComparison.Ordinal);

    /// <inheritdoc />
    public async Task<IReadOnlyList<SyncResult>> SyncAsync(IReadOnlyList<RefreshItem> items, CancellationToken cancellationToken) =>
        await Task.WhenAll(items.Select(item => SyncOneAsync(item, cancellationToken))).ConfigureAwait(false);

    private async Task<SyncResult> SyncOneAsync(RefreshItem item, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await _http.GetAsync(UrlOf(item.Id), HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Gone)
                return SyncResult.Deleted(item.Id);
            if (response.StatusCode != HttpStatusCode.OK)
                return SyncResult.Failed(item.Id, $"GET {UrlOf(item.Id)} answered {(int)response.StatusCode}");

            var body = await ReadBodyAsync(response, cancellationToken).ConfigureAwait(false);
            if (body is null)
                return SyncResult.Failed(item.Id, $"GET {UrlOf(item.Id)} answered more than {MaxBodyBytes} bytes");
            if (!JsonState.TryNormalize(body, TerminalProperty, out var state, out var terminal, out var error))
                return SyncResult.Failed(item.Id, $"GET {UrlOf(item.Id)} answered a body that is not JSON ({error})");
            return state == item.State && terminal == item.Terminal
                ? SyncResult.Unchanged(item.Id)
                : SyncResult.Updated(new RefreshItem(item.Id, state, terminal));
        }
        catch (HttpRequestException e)
        {
            return SyncResult.Failed(item.Id, $"GET {UrlOf(item.Id)} failed: {e.Message}");
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return SyncResult.Failed(item.Id, $"GET {UrlOf(item.Id)} timed out after {_http.Timeout}");
        }
    }

    private static async Task<string?> ReadBodyAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.Content.Headers.ContentLength > MaxBodyBytes)
            return null;
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > MaxBodyBytes)
                return null;
            buffer.Write(chunk, 0, read);
        }

        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }
}

/// <summary>Item states as JSON: one canonical (compact) text per document, and the terminal flag read from it.</summary>
public static class JsonState
{
    /// <summary>
    /// Parses <paramref name="json"/> and writes it back compact (no insignificant whitespace, properties in their order),
    /// so that equal documents compare equal as strings; <paramref name="terminal"/> is whether the document is an object
    /// whose <paramref name="terminalProperty"/> is <c>true</c>.
    /// </summary>
    /// <param name="json">The text.</param>
    /// <param name="terminalProperty">The property marking a terminal state.</param>
    /// <param name="normalized">The compact text.</param>
    /// <param name="terminal">Whether the state is terminal.</param>
    /// <param name="error">Why the text is not JSON, or <c>null</c>.</param>
    public static bool TryNormalize(string json, string terminalProperty, out string normalized, out bool terminal, out string? error)
    {
        normalized = "";
        terminal = false;
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            terminal = root.ValueKind == JsonValueKind.Object
                       && root.TryGetProperty(terminalProperty, out var flag)
                       && flag.ValueKind == JsonValueKind.True;
            normalized = Normalize(root);
            error = null;
            return true;
        }
        catch (JsonException e)
        {
            error = e.Message;
            return false;
        }
    }

    /// <summary>The compact text of <paramref name="element"/>.</summary>
    /// <param name="element">A JSON value.</param>
    public static string Normalize(JsonElement element)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = false, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            element.WriteTo(writer);
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }
}
