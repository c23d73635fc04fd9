using System.Net;
using System.Text;
using System.Text.Json;

namespace Akka.WriteBehind.Tests.Host;

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
