using System.Security.Cryptography;
using System.Text;

namespace Akka.WriteBehind.Host.Http;

/// <summary>
/// Keeps strangers out before any endpoint runs: with an API key, every request but <c>/health</c> and <c>/ready</c> (and
/// <c>/metrics</c> with <c>--metrics-anonymous</c>) needs <c>Authorization: Bearer &lt;key&gt;</c>, compared in constant
/// time (401 otherwise); a request that changes state and carries a body takes only <c>application/json</c> (415
/// otherwise), so a web page cannot post a cross-site "simple request" (<c>text/plain</c>, forms) without a CORS preflight,
/// which this API never answers.
/// </summary>
public static class ApiSecurity
{
    /// <summary>The error code of a missing or wrong key (401).</summary>
    public const string Unauthorized = "unauthorized";

    /// <summary>The error code of a body that is not JSON (415).</summary>
    public const string UnsupportedMediaType = "unsupported_media_type";

    private static readonly PathString[] Anonymous = ["/health", "/ready"];

    /// <summary>Adds the checks to the pipeline; call before the endpoints run.</summary>
    /// <param name="app">The application.</param>
    /// <param name="security">Who may call the API.</param>
    /// <param name="network">The node's ports: on the management port only the cluster bootstrap route is served, openly.</param>
    public static IApplicationBuilder UseApiSecurity(this IApplicationBuilder app, SecuritySettings security, NetworkSettings network)
    {
        var expected = security.ApiKey is null ? null : SHA256.HashData(Encoding.UTF8.GetBytes(security.ApiKey));
        app.Use(async (context, next) =>
        {
            var request = context.Request;
            if (ClusterBootstrapRoute.OnManagementPort(context, network))
            {
                if (request.Path.Equals(ClusterBootstrapRoute.Path, StringComparison.Ordinal) && HttpMethods.IsGet(request.Method))
                    await next(context).ConfigureAwait(false);
                else
                    await ErrorMapping.Error(StatusCodes.Status404NotFound, ErrorMapping.NotFound,
                        $"the management port serves only GET {ClusterBootstrapRoute.Path}").ExecuteAsync(context).ConfigureAwait(false);
                return;
            }

            if (expected is not null && !IsAnonymous(request.Path, security) && !HasKey(request, expected))
            {
                context.Response.Headers.WWWAuthenticate = "Bearer";
                await ErrorMapping.Error(StatusCodes.Status401Unauthorized, Unauthorized,
                    "this node wants an API key: send the header 'Authorization: Bearer <key>'").ExecuteAsync(context).ConfigureAwait(false);
                return;
            }

            if (ChangesState(request.Method) && HasBody(request) && !IsJson(request.ContentType))
            {
                await ErrorMapping.Error(StatusCodes.Status415UnsupportedMediaType, UnsupportedMediaType,
                    $"{request.Method} {request.Path} takes a JSON body: send 'Content-Type: application/json' " +
                    $"(got '{request.ContentType ?? "none"}')").ExecuteAsync(context).ConfigureAwait(false);
                return;
            }

            await next(context).ConfigureAwait(false);
        });
        return app;
    }

    private static bool IsAnonymous(PathString path, SecuritySettings security) =>
        Anonymous.Any(p => path.Equals(p, StringComparison.OrdinalIgnoreCase))
        || (security.MetricsAnonymous && path.Equals("/metrics", StringComparison.OrdinalIgnoreCase));

    // both sides hashed to 32 bytes first: FixedTimeEquals leaks nothing, not even the key's length
    private static bool HasKey(HttpRequest request, byte[] expected)
    {
        var header = request.Headers.Authorization.ToString();
        const string scheme = "Bearer ";
        if (!header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
            return false;
        var given = SHA256.HashData(Encoding.UTF8.GetBytes(header[scheme.Length..].Trim()));
        return CryptographicOperations.FixedTimeEquals(given, expected);
    }

    private static bool ChangesState(string method) =>
        HttpMethods.IsPost(method) || HttpMethods.IsPut(method) || HttpMethods.IsPatch(method) || HttpMethods.IsDelete(method);

    // a request without a body (POST .../flush, DELETE) carries nothing a cross-site page could forge into data
    private static bool HasBody(HttpRequest request) =>
        request.ContentLength is > 0 || request.Headers.TransferEncoding.Count > 0 || request.ContentType is not null;

    private static bool IsJson(string? contentType) =>
        contentType is not null
        && Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(contentType, out var media)
        && media.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase);
}
