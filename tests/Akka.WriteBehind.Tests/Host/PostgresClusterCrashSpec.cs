using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text;
using Akka.WriteBehind.Tests.Support;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Host;

/// <summary>
/// Three Host processes form a cluster against one PostgreSQL database (<c>--store postgres --durability journal</c>) as three
/// machines would: each on its own loopback address (127.0.0.2, .3, .4, <c>--hostname</c> and <c>--http-address</c>) with the
/// same HTTP, Akka and management ports. They find each other through seed nodes (every node listing all three) or through
/// Akka.Management cluster bootstrap (<c>--discovery config</c> listing every node's management endpoint); clients increment
/// through all three HTTP endpoints. The first node — with seed nodes the first seed, with bootstrap the lowest address that
/// formed the cluster: the oldest member, home of the shard coordinator — is SIGKILLed under load; the survivors'
/// split-brain resolver (node.conf: keep-majority) downs it and every key is served again by the survivors; then it is
/// restarted on the same address and rejoins the running cluster. Finally every key is compared with what the clients were
/// told.
/// </summary>
/// <remarks>
/// A request in flight when the node dies, or one that times out while its key has no home, has an unknown outcome (there
/// are no idempotency keys). Each key is checked exactly anyway: stored − acknowledged must be the sum of some subset of
/// that key's unknown deltas (deltas are random in 1..1000, so a lost or doubled increment almost never hides in a subset
/// sum); with no unknown request for a key this is stored = acknowledged.
/// </remarks>
[Collection(PostgresFixture.Collection)]
public sealed class PostgresClusterCrashSpec(ITestOutputHelper output, PostgresFixture postgres) : IDisposable
{
    private const int Nodes = 3;
    private const int Keys = 30;
    private const int ClientsPerNode = 4;
    private const int MaxUnknownPerKeyForSubsetCheck = 18;

    private readonly PostgresTestDatabase _database = new(postgres);
    private readonly List<HostProcess> _hosts = new();

    private static readonly string[] Addresses = ["127.0.0.2", "127.0.0.3", "127.0.0.4"];

    [Theory]
    [InlineData("seed-nodes")]
    [InlineData("config")]
    public async Task Should_lose_nothing_acknowledged_and_apply_nothing_twice_when_a_node_of_three_on_own_addresses_is_killed_and_restarted(
        string discovery)
    {
        var clock = Stopwatch.StartNew();
        var (httpPort, akkaPort, managementPort) = (FreePortOnEvery(Addresses), FreePortOnEvery(Addresses), FreePortOnEvery(Addresses));
        string[] finding = discovery == "seed-nodes"
            ? ["--seed-nodes", string.Join(",", Addresses.Select(a => $"akka.tcp://writebehind@{a}:{akkaPort}"))]
            : ["--discovery", "config", "--management-port", managementPort.ToString(),
                "--discovery-endpoints", string.Join(",", Addresses.Select(a => $"{a}:{managementPort}"))];
        var nodes = await Task.WhenAll(Enumerable.Range(0, Nodes).Select(i => StartAsync(i, httpPort, akkaPort, finding)));
        output.WriteLine($"3 nodes up after {clock.Elapsed.TotalSeconds:F1}s");

        // exactly one cluster: every node sees the same three members Up
        foreach (var node in nodes)
            await AwaitOneClusterOfThreeAsync(node, akkaPort);
        if (discovery == "config")
        {
            // the management port answers the contact-point route, and nothing of the API
            using var management = new HttpClient { BaseAddress = new Uri($"http://{Addresses[1]}:{managementPort}/") };
            using (var seedNodes = await management.GetAsync("bootstrap/seed-nodes"))
            {
                Assert.Equal(HttpStatusCode.OK, seedNodes.StatusCode);
                Assert.Contains($"\"Host\":\"{Addresses[0]}\"", await seedNodes.Content.ReadAsStringAsync());
            }

            await HostHttp.AssertErrorAsync(management.GetAsync("stats"), HttpStatusCode.NotFound, "not_found");
        }

        var ledger = new Ledger();
        var clients = new Clients(ledger);
        for (var i = 0; i < Nodes; i++)
            clients.Start(i, nodes[i]);
        await ledger.AwaitAcknowledgedAsync(300);

        // SIGKILL of the first seed node (oldest member, shard coordinator) under load; its clients see the connection die
        var killedAt = clock.Elapsed;
        await nodes[0].KillAsync();
        await clients.StopAsync(0);
        output.WriteLine($"node 0 killed after {killedAt.TotalSeconds:F1}s; {ledger}");

        // the survivors down it (failure detector, then SBR stable-after) and take over its keys: every key answers again
        using (var http = nodes[1].CreateClient(Keys))
        {
            var deadline = Stopwatch.StartNew();
            while (!await AllKeysServedAsync(http))
            {
                Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(90), $"the survivors do not serve every key\n{nodes[1].Tail()}");
                await Task.Delay(250);
            }
        }

        output.WriteLine($"every key served by the survivors {(clock.Elapsed - killedAt).TotalSeconds:F1}s after the kill; {ledger}");

        // node 0 comes back on its ports and seed list and rejoins; load through all three again
        var before = ledger.Acknowledged;
        nodes[0] = await StartAsync(0, httpPort, akkaPort, finding);
        clients.Start(0, nodes[0]);
        await AwaitOneClusterOfThreeAsync(nodes[0], akkaPort); // it joined the running cluster, not a new one of its own
        await ledger.AwaitAcknowledgedAsync(before + 300);
        await clients.StopAsync();
        output.WriteLine($"node 0 restarted and serving after {clock.Elapsed.TotalSeconds:F1}s; {ledger}");

        // every key flushed (through any node), then the table compared with the ledger
        using (var http = nodes[2].CreateClient(Keys))
        {
            foreach (var key in ledger.Keys)
            {
                using var response = await http.PostAsync($"counters/{Uri.EscapeDataString(key)}/flush", null);
                Assert.True(response.StatusCode == HttpStatusCode.OK, $"flush {key}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            }
        }

        var stored = await _database.ReadCountersAsync();
        var report = ledger.Check(stored, MaxUnknownPerKeyForSubsetCheck);
        output.WriteLine($"{report.Summary} in {clock.Elapsed.TotalSeconds:F1}s");
        Assert.True(ledger.Acknowledged > 0, "nothing was acknowledged: the test proved nothing");
        Assert.True(report.Violations.Count == 0, $"{report.Violations.Count} keys are wrong: {string.Join(" | ", report.Violations.Take(5))}");

        await Task.WhenAll(nodes.Select(n => n.StopAsync()));
        Assert.All(nodes, n => Assert.True(n.ExitCode == 0, $"exit code {n.ExitCode}\n{n.Tail()}"));
    }

    public void Dispose()
    {
        foreach (var host in _hosts)
            host.Dispose();
        _database.Dispose();
    }

    private async Task<HostProcess> StartAsync(int node, int httpPort, int akkaPort, string[] finding)
    {
        var dir = Path.Combine(_database.Dir.Path, $"node{node}");
        Directory.CreateDirectory(dir);
        var (host, upLine) = await HostProcess.StartOnAsync(dir, Addresses[node], httpPort, akkaPort,
            ["--flush-interval", "300ms", "--durability", "journal", .. finding, .. _database.HostOptions]);
        _hosts.Add(host);
        Assert.Contains($"store={_database.HostStoreDescription} ", upLine);
        Assert.Contains($"http=http://{Addresses[node]}:{httpPort} akka=akka.tcp://writebehind@{Addresses[node]}:{akkaPort} ", upLine);
        return host;
    }

    private static async Task AwaitOneClusterOfThreeAsync(HostProcess node, int akkaPort)
    {
        var expected = Addresses.Select(a => $"akka.tcp://writebehind@{a}:{akkaPort}").Order().ToArray();
        using var http = node.CreateClient(1);
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var stats = await HostHttp.GetJsonAsync(http, "stats", HttpStatusCode.OK);
            var up = stats.GetProperty("members").EnumerateArray().Where(m => m.GetProperty("status").GetString() == "up")
                .Select(m => m.GetProperty("address").GetString()!).Order().ToArray();
            if (up.SequenceEqual(expected))
                return;
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(90),
                $"{node.Address} sees members [{string.Join(", ", up)}] up, not [{string.Join(", ", expected)}]\n{node.Tail()}");
            await Task.Delay(250);
        }
    }

    // one port number free on every address: each node binds the same ports on its own address, as machines would
    private static int FreePortOnEvery(string[] addresses)
    {
        for (var attempt = 0; ; attempt++)
        {
            var port = HostProcess.FreeTcpPort();
            var listeners = new List<System.Net.Sockets.TcpListener>();
            try
            {
                foreach (var address in addresses)
                {
                    var listener = new System.Net.Sockets.TcpListener(IPAddress.Parse(address), port);
                    listener.Start();
                    listeners.Add(listener);
                }

                return port;
            }
            catch (System.Net.Sockets.SocketException) when (attempt < 20)
            {
                // taken on one of the addresses: another port
            }
            finally
            {
                foreach (var listener in listeners)
                    listener.Stop();
            }
        }
    }

    private static async Task<bool> AllKeysServedAsync(HttpClient http)
    {
        var answers = await Task.WhenAll(Enumerable.Range(0, Keys).Select(async k =>
        {
            try
            {
                using var response = await http.GetAsync($"counters/{Key(k)}");
                return response.StatusCode == HttpStatusCode.OK;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                return false;
            }
        }));
        return answers.All(ok => ok);
    }

    private static string Key(int k) => $"cluster-crash-{k}";

    /// <summary>Per key: the acknowledged sum, and every delta whose outcome is unknown.</summary>
    private sealed class Ledger
    {
        private readonly ConcurrentDictionary<string, long> _acknowledged = new();
        private readonly ConcurrentDictionary<string, ConcurrentBag<long>> _unknown = new();
        private long _acknowledgedTotal;

        public long Acknowledged => Interlocked.Read(ref _acknowledgedTotal);

        public IEnumerable<string> Keys => _acknowledged.Keys.Union(_unknown.Keys).ToArray();

        public void Acknowledge(string key, long delta)
        {
            _acknowledged.AddOrUpdate(key, delta, (_, v) => v + delta);
            Interlocked.Add(ref _acknowledgedTotal, delta);
        }

        public void Unknown(string key, long delta) => _unknown.GetOrAdd(key, _ => new ConcurrentBag<long>()).Add(delta);

        public async Task AwaitAcknowledgedAsync(long total)
        {
            var deadline = Stopwatch.StartNew();
            while (Acknowledged < total)
            {
                Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(60), $"{total} acknowledged (now {Acknowledged})");
                await Task.Delay(50);
            }
        }

        public (string Summary, List<string> Violations) Check(Dictionary<string, long> stored, int maxUnknownForSubsetCheck)
        {
            var violations = new List<string>();
            int exact = 0, subset = 0, bounded = 0;
            foreach (var key in Keys.Union(stored.Keys))
            {
                var ack = _acknowledged.GetValueOrDefault(key);
                var unknown = _unknown.TryGetValue(key, out var bag) ? bag.ToArray() : [];
                var value = stored.GetValueOrDefault(key);
                var extra = value - ack;
                bool ok;
                if (unknown.Length == 0)
                {
                    ok = extra == 0;
                    exact++;
                }
                else if (unknown.Length <= maxUnknownForSubsetCheck)
                {
                    ok = SubsetSums(unknown).Contains(extra);
                    subset++;
                }
                else
                {
                    ok = extra >= 0 && extra <= unknown.Sum();
                    bounded++;
                }

                if (!ok)
                    violations.Add($"{key}: acknowledged {ack}, stored {value}, unknown [{string.Join(",", unknown)}]");
            }

            var unknownCount = _unknown.Values.Sum(b => b.Count);
            var unknownApplied = stored.Values.Sum() - Acknowledged;
            return ($"acknowledged {Acknowledged}, stored {stored.Values.Sum()}, unknown requests {unknownCount} (applied sum {unknownApplied}); " +
                    $"keys checked exactly {exact}, by subset sum {subset}, by bounds {bounded}", violations);
        }

        public override string ToString() => $"acknowledged {Acknowledged}, unknown requests {_unknown.Values.Sum(b => b.Count)}";

        private static HashSet<long> SubsetSums(IEnumerable<long> deltas)
        {
            var sums = new HashSet<long> { 0 };
            foreach (var delta in deltas)
                sums.UnionWith(sums.Select(s => s + delta).ToArray());
            return sums;
        }
    }

    /// <summary>HTTP clients per node, each incrementing random keys until its node's clients are stopped.</summary>
    private sealed class Clients(Ledger ledger)
    {
        private readonly Dictionary<int, (CancellationTokenSource Stop, HttpClient Http, Task[] Tasks)> _perNode = new();
        private int _seed = 20_261_124;

        public void Start(int node, HostProcess host)
        {
            var stop = new CancellationTokenSource();
            var http = host.CreateClient(ClientsPerNode);
            var tasks = Enumerable.Range(0, ClientsPerNode)
                .Select(_ => Task.Run(() => RunAsync(http, new Random(Interlocked.Increment(ref _seed)), stop.Token)))
                .ToArray();
            _perNode[node] = (stop, http, tasks);
        }

        public async Task StopAsync(int node)
        {
            var (stop, http, tasks) = _perNode[node];
            await stop.CancelAsync();
            await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromSeconds(60));
            http.Dispose();
            _perNode.Remove(node);
        }

        public async Task StopAsync()
        {
            foreach (var node in _perNode.Keys.ToArray())
                await StopAsync(node);
        }

        private async Task RunAsync(HttpClient http, Random random, CancellationToken stop)
        {
            while (!stop.IsCancellationRequested)
            {
                var key = Key(random.Next(Keys));
                var delta = random.Next(1, 1001);
                try
                {
                    // not cancelled by stop: a request once sent is always seen to its outcome
                    using var response = await http.PostAsync($"counters/{Uri.EscapeDataString(key)}/increment",
                        new StringContent($"{{\"delta\":{delta}}}", Encoding.UTF8, "application/json"));
                    if (response.StatusCode == HttpStatusCode.Accepted)
                        ledger.Acknowledge(key, delta);
                    else
                        ledger.Unknown(key, delta); // refused (not applied) or timed out (maybe applied): a subset covers both
                }
                catch (HttpRequestException e) when (e.InnerException is System.Net.Sockets.SocketException
                                                     { SocketErrorCode: System.Net.Sockets.SocketError.ConnectionRefused })
                {
                    // never sent: the node is down
                    if (stop.IsCancellationRequested)
                        return;
                    await Task.Delay(100);
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    ledger.Unknown(key, delta);
                    if (stop.IsCancellationRequested)
                        return;
                    await Task.Delay(100); // the node is gone: its clients stop when told to
                }
            }
        }
    }
}
