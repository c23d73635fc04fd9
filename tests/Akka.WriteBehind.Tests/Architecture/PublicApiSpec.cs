using Akka.WriteBehind.Tests.Host;
using PublicApiGenerator;

namespace Akka.WriteBehind.Tests.Architecture;

/// <summary>
/// The library's public API, rendered from the compiled assembly and compared with the approved file checked in next to
/// this spec, as Akka.NET guards its own surface. A difference fails and writes the received file beside the approved
/// one; copy it over the approved file when the change is meant.
/// </summary>
public sealed class PublicApiSpec
{
    private static readonly string Folder =
        Path.Combine(HostProcess.RepositoryRoot(), "tests", "Akka.WriteBehind.Tests", "Architecture");

    [Fact]
    public void Should_keep_the_public_api_of_the_library_as_approved()
    {
        var received = Render();
        var approvedPath = Path.Combine(Folder, "PublicApi.approved.txt");
        var receivedPath = Path.Combine(Folder, "PublicApi.received.txt");
        var approved = File.Exists(approvedPath) ? Normalize(File.ReadAllText(approvedPath)) : "";

        if (approved == received)
        {
            File.Delete(receivedPath);
            return;
        }

        File.WriteAllText(receivedPath, received);
        Assert.Fail($"The public API differs from {approvedPath}; the rendered API is in {receivedPath}.\n" +
                    "Review the difference and copy the received file over the approved one if it is meant.");
    }

    [Fact]
    public void Should_render_public_types_and_leave_internal_ones_out()
    {
        var api = Render();

        Assert.Contains("public static class WriteBehindConfig", api);
        Assert.DoesNotContain("class KeyMessageExtractor", api);
    }

    /// <summary>Public types only; the assembly attributes (InternalsVisibleTo and the build's own) are not API.</summary>
    private static string Render() => Normalize(typeof(WriteBehindConfig).Assembly.GeneratePublicApi(new ApiGeneratorOptions
    {
        IncludeAssemblyAttributes = false,
    }));

    private static string Normalize(string text) => text.Replace("\r\n", "\n").TrimEnd() + "\n";
}
