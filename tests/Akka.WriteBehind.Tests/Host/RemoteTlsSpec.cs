using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Akka.WriteBehind.Tests.Support;

namespace Akka.WriteBehind.Tests.Host;

/// <summary>
/// TLS between nodes as docs/deployment.md describes it: Akka.Remote's DotNetty SSL settings in a <c>--config</c> file (a
/// self-signed certificate, validation suppressed), seed nodes as <c>akka.ssl.tcp</c>. Two Host processes with it form a
/// cluster; a third without it cannot join them.
/// </summary>
public sealed class RemoteTlsSpec : IDisposable
{
    private const string Password = "spec-tls-password";
    private readonly TempDirectory _dir = new();
    private readonly List<HostProcess> _hosts = new();

    [Fact]
    public async Task Should_form_a_cluster_over_tls_and_keep_a_node_without_tls_out()
    {
        var certificate = Path.Combine(_dir.Path, "node.pfx");
        using (var rsa = RSA.Create(2048))
        {
            var request = new CertificateRequest("CN=127.0.0.1", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            using var self = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
            await File.WriteAllBytesAsync(certificate, self.Export(X509ContentType.Pfx, Password));
        }

        var tlsConf = Path.Combine(_dir.Path, "tls.conf");
        await File.WriteAllTextAsync(tlsConf, $$"""
            akka.remote.dot-netty.tcp {
              enable-ssl = true
              ssl {
                certificate {
                  path = "{{certificate}}"
                  password = "{{Password}}"
                }
                suppress-validation = true
              }
            }
            """);

        var firstPort = HostProcess.FreeTcpPort();
        var seed = $"akka.ssl.tcp://writebehind@127.0.0.1:{firstPort}";
        var first = await StartAsync("a", firstPort, "--config", tlsConf, "--seed-nodes", seed);
        var second = await StartAsync("b", null, "--config", tlsConf, "--seed-nodes", seed);
        await AwaitUpMembersAsync(first, 2);
        await AwaitUpMembersAsync(second, 2);

        // the same node without TLS: its handshake is not TLS, the first node drops it, it never becomes a member
        var plainDir = Path.Combine(_dir.Path, "plain");
        Directory.CreateDirectory(plainDir);
        using var plain = HostProcess.Launch(plainDir, "--seed-nodes", seed.Replace("akka.ssl.tcp:", "akka.tcp:"), "--durability", "memory");
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(15))
        {
            Assert.False(plain.OutputContains(HostProcess.UpLinePrefix), $"a node without TLS joined\n{plain.Tail()}");
            Assert.Equal(2, await UpMembersAsync(first));
            await Task.Delay(500);
        }

    }

    public void Dispose()
    {
        foreach (var host in _hosts)
            host.Dispose();
        _dir.Dispose();
    }

    private async Task<HostProcess> StartAsync(string name, int? akkaPort, params string[] options)
    {
        var dir = Path.Combine(_dir.Path, name);
        Directory.CreateDirectory(dir);
        var (host, _) = await HostProcess.StartAsync(dir, null, akkaPort, [.. options, "--durability", "memory"]);
        _hosts.Add(host);
        return host;
    }

    private static async Task<int> UpMembersAsync(HostProcess node)
    {
        using var http = node.CreateClient(1);
        var stats = await HostHttp.GetJsonAsync(http, "stats", HttpStatusCode.OK);
        return stats.GetProperty("members").EnumerateArray().Count(m => m.GetProperty("status").GetString() == "up");
    }

    private static async Task AwaitUpMembersAsync(HostProcess node, int count)
    {
        var watch = Stopwatch.StartNew();
        while (await UpMembersAsync(node) != count)
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(60), $"not {count} members up\n{node.Tail()}");
            await Task.Delay(250);
        }
    }
}
