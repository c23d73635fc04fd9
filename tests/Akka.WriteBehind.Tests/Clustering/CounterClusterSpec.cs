using System.Collections.Concurrent;
using System.Diagnostics;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using Akka.Configuration;
using Akka.Event;
using Akka.WriteBehind.Counters;
using Akka.WriteBehind.Tests.Support;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Clustering;

/// <summary>
/// Three ActorSystems on 127.0.0.1 forming one cluster, counters with journal durability on one PostgreSQL database (the
/// counters table and Akka.Persistence.Sql's journal shared by all three). Clients increment many keys through every node;
/// one node leaves gracefully under load (its entities flush before they move), then another is terminated abruptly
/// (nothing flushed, no hand-off: its acknowledged increments are only in the journal) and downed by the survivor, whose
/// journal sweep replays them into the table without anyone touching the keys. After each step the table holds exactly
/// the acknowledged increments.
/// </summary>
[Collection(PostgresFixture.Collection)]
public sealed class CounterClusterSpec(ITestOutputHelper output, PostgresFixture postgres) : IAsyncLifetime
{
    private const string SystemName = "counter-cluster";
    private const int Keys = 60;
    private const int ClientsPerNode = 4;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(15);

    private readonly PostgresTestDatabase _database = new(postgres);
    private readonly List<ActorSystem> _systems = new();

    [Fact]
    public async Task Should_keep_totals_exact_when_a_node_leaves_under_load_and_when_a_node_is_downed_abruptly()
    {
        var clock = Stopwatch.StartNew();
        // node 0 survives everything, node 1 is killed (it never flushes on its own: its acknowledged increments stay in the
        // journal only), node 2 leaves gracefully
        var nodes = new[] { StartSystem(""), StartSystem("akka.write-behind.counters.flush-interval = 1h"), StartSystem("") };
        var clusters = nodes.Select(n => Akka.Cluster.Cluster.Get(n)).ToArray();
        await clusters[0].JoinAsync(clusters[0].SelfAddress).WaitAsync(Timeout);
        await Task.WhenAll(clusters.Skip(1).Select(c => c.JoinAsync(clusters[0].SelfAddress))).WaitAsync(Timeout);
        await Eventually.TrueAsync(() => clusters.All(c => c.State.Members.Count(m => m.Status == MemberStatus.Up) == 3), Timeout, "three nodes Up");

        // every node starts its counters at the same moment: the tables are created once, without a race (PostgreSQL refuses
        // concurrent CREATE TABLE IF NOT EXISTS of one table with a unique violation; the journal plugin logs it as an error)
        var errors = new ConcurrentQueue<string>();
        foreach (var node in nodes)
            node.EventStream.Subscribe(node.ActorOf(Props.Create(() => new ErrorCollector(errors))), typeof(Error));
        var counters = await Task.WhenAll(nodes.Select(n => WriteBehindCounters.StartAsync(n, _database.CreateStore()))).WaitAsync(Timeout);
        // the coordinator allocates shards among the regions registered with it: wait for all three
        await CounterRegions.AwaitRegionsAsync(counters[0], 3, Timeout);
        output.WriteLine($"cluster of 3 with counters after {clock.Elapsed.TotalSeconds:F1}s");

        // phase 1: load through all three nodes; the keys' entities spread over the nodes
        var ledger = new Ledger();
        var load = new Load(counters, ledger, [0, 1, 2]);
        await ledger.AwaitAcknowledgedAsync(600, Timeout);
        var hosted = await Task.WhenAll(counters.Select(CounterRegions.EntitiesAsync));
        output.WriteLine($"entities per node under load: {string.Join(", ", hosted)}");
        var initializationErrors = errors.Where(e => e.Contains("initializ", StringComparison.OrdinalIgnoreCase)).ToList();
        Assert.True(initializationErrors.Count == 0, $"tables created concurrently: {string.Join(" | ", initializationErrors.Take(3))}");
        Assert.True(hosted.Count(h => h > 0) >= 2, $"the keys' entities should live on more than one node: {string.Join(", ", hosted)}");
        Assert.True(hosted[2] > 0, "the node that leaves must host entities, else its leaving proves nothing");

        // phase 2: node 2 leaves gracefully while nodes 0 and 1 keep incrementing (its own clients stop first)
        await load.StopNodeAsync(2);
        var beforeLeave = ledger.Acknowledged;
        await CoordinatedShutdown.Get(nodes[2]).Run(CoordinatedShutdown.ClusterLeavingReason.Instance).WaitAsync(Timeout);
        await nodes[2].WhenTerminated.WaitAsync(Timeout);
        await ledger.AwaitAcknowledgedAsync(ledger.Acknowledged + 300, Timeout);
        await load.StopAsync();
        output.WriteLine($"node 2 left after {clock.Elapsed.TotalSeconds:F1}s: {ledger.Acknowledged - beforeLeave} acknowledged meanwhile; {ledger}");

        // every key flushed through the survivors: the table holds exactly what was acknowledged
        await FlushAllAsync(counters[0], ledger);
        await AssertTableAsync(ledger, "after the graceful leave");

        // phase 3: more load through nodes 0 and 1; node 1 holds its share unflushed (journaled only)
        load = new Load(counters, ledger, [0, 1]);
        await ledger.AwaitAcknowledgedAsync(ledger.Acknowledged + 600, Timeout);
        await load.StopAsync();
        var unflushedOnNode1 = ledger.Acknowledged - (await _database.ReadCountersAsync()).Values.Sum();
        Assert.True(unflushedOnNode1 > 0, "node 1 must hold journaled, unflushed increments, else killing it proves nothing");

        // node 1 dies: no CoordinatedShutdown, no hand-off, no flush. The survivor downs it (as the split-brain resolver would)
        var victim = clusters[1].SelfAddress;
        await nodes[1].Terminate().WaitAsync(Timeout);
        clusters[0].Down(victim);
        await Eventually.TrueAsync(() => clusters[0].State.Members.All(m => m.Address != victim), Timeout, "node 1 removed");
        output.WriteLine($"node 1 killed and removed after {clock.Elapsed.TotalSeconds:F1}s holding {unflushedOnNode1} journaled, unflushed; {ledger}");

        // nobody touches the keys: the survivor's journal sweep wakes them, they replay and flush
        var expected = ledger.ExpectedTotals();
        var deadline = DateTime.UtcNow + Timeout;
        Dictionary<string, long> stored;
        while (!Matches(stored = await _database.ReadCountersAsync(), expected) && DateTime.UtcNow < deadline)
            await Task.Delay(200);
        output.WriteLine($"journal sweep recovered node 1's keys after {clock.Elapsed.TotalSeconds:F1}s");
        await AssertTableAsync(ledger, "after node 1 was killed and downed");
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => ClusterNodes.StopAsync(_systems, _database, Timeout);

    private ActorSystem StartSystem(string overrides)
    {
        var config = TestConfig.Cluster($$"""
            {{overrides}}
            akka.write-behind.counters {
              durability = journal
              journal.sweep-interval = 2s
              # messages sent to the killed node's region before its removal are lost: release their ingest slots soon,
              # so that the survivor's shutdown does not wait drain-timeout for them
              ingest.confirm-timeout = 5s
            }
            # a terminated system is a crashed node: no CoordinatedShutdown (no leave, no hand-off, no flush)
            akka.coordinated-shutdown.run-by-actor-system-terminate = off
            # the coordinator reallocates a removed node's shards this long after its removal (by default the split-brain
            # resolver's stable-after, 20s, so that a downed node has surely stopped its entities); the killed node here is gone
            akka.cluster.down-removal-margin = 2s
            """, _database);
        var system = ActorSystem.Create(SystemName, config);
        _systems.Add(system);
        return system;
    }

    private static async Task FlushAllAsync(CounterSet through, Ledger ledger)
    {
        foreach (var key in ledger.Keys)
        {
            var reply = await through.Region.Ask<ICounterReply>(new FlushCounter(key), AskTimeout);
            Assert.True(reply is CounterFlushed, $"flush {key}: {reply}");
        }
    }

    private async Task AssertTableAsync(Ledger ledger, string when)
    {
        var stored = await _database.ReadCountersAsync();
        var expected = ledger.ExpectedTotals();
        output.WriteLine($"{when}: stored {stored.Values.Sum()} in {stored.Count} rows, acknowledged {ledger.Acknowledged}, unknown {ledger.Unknown}");
        // an increment whose ask timed out has an unknown outcome: it may or may not be in
        var violations = expected.Keys.Union(stored.Keys)
            .Select(key => (key, ack: expected.GetValueOrDefault(key), stored: stored.GetValueOrDefault(key), unknown: ledger.UnknownOf(key)))
            .Where(k => k.stored < k.ack || k.stored > k.ack + k.unknown)
            .Select(k => $"{k.key}: acknowledged {k.ack}, stored {k.stored}, unknown {k.unknown}")
            .ToList();
        Assert.True(violations.Count == 0, $"{when}: {violations.Count} keys differ: {string.Join(" | ", violations.Take(5))}");
    }

    private static bool Matches(Dictionary<string, long> stored, IReadOnlyDictionary<string, long> expected) =>
        expected.All(e => stored.GetValueOrDefault(e.Key) == e.Value);

    /// <summary>Collects the error log events of an actor system.</summary>
    private sealed class ErrorCollector : ReceiveActor
    {
        public ErrorCollector(ConcurrentQueue<string> errors) => Receive<Error>(e => errors.Enqueue($"{e.Message} {e.Cause}"));
    }

    /// <summary>What the clients were told, per key: acknowledged sums, refused counts, timed-out (unknown) sums.</summary>
    private sealed class Ledger
    {
        private readonly ConcurrentDictionary<string, long> _acknowledged = new();
        private readonly ConcurrentDictionary<string, long> _unknown = new();
        private long _acknowledgedTotal;
        private long _refused;

        public long Acknowledged => Interlocked.Read(ref _acknowledgedTotal);

        public long Unknown => _unknown.Values.Sum();

        public IEnumerable<string> Keys => _acknowledged.Keys.Union(_unknown.Keys).ToArray();

        public long UnknownOf(string key) => _unknown.GetValueOrDefault(key);

        public IReadOnlyDictionary<string, long> ExpectedTotals() => new Dictionary<string, long>(_acknowledged);

        public void Record(string key, long delta, object? reply)
        {
            switch (reply)
            {
                case IncrementAccepted:
                    _acknowledged.AddOrUpdate(key, delta, (_, v) => v + delta);
                    Interlocked.Add(ref _acknowledgedTotal, delta);
                    break;
                case CounterRejected:
                    Interlocked.Increment(ref _refused); // refused: nothing was changed
                    break;
                default:
                    _unknown.AddOrUpdate(key, delta, (_, v) => v + delta); // timed out: may or may not be in
                    break;
            }
        }

        public async Task AwaitAcknowledgedAsync(long total, TimeSpan timeout) =>
            await Eventually.TrueAsync(() => Acknowledged >= total, timeout, $"{total} acknowledged (now {Acknowledged})");

        public override string ToString() =>
            $"acknowledged {Acknowledged}, refused {Interlocked.Read(ref _refused)}, unknown {Unknown}";
    }

    /// <summary>Clients asking increments of random keys through the given nodes until stopped.</summary>
    private sealed class Load
    {
        private readonly Dictionary<int, (CancellationTokenSource Stop, Task[] Clients)> _perNode = new();

        public Load(CounterSet[] counters, Ledger ledger, int[] nodes)
        {
            foreach (var node in nodes)
            {
                var stop = new CancellationTokenSource();
                var clients = Enumerable.Range(0, ClientsPerNode)
                    .Select(c => Task.Run(() => RunAsync(counters[node], ledger, new Random(node * 100 + c), stop.Token)))
                    .ToArray();
                _perNode[node] = (stop, clients);
            }
        }

        public async Task StopNodeAsync(int node)
        {
            var (stop, clients) = _perNode[node];
            await stop.CancelAsync();
            await Task.WhenAll(clients).WaitAsync(Timeout);
            _perNode.Remove(node);
        }

        public async Task StopAsync()
        {
            foreach (var node in _perNode.Keys.ToArray())
                await StopNodeAsync(node);
        }

        private static async Task RunAsync(CounterSet counters, Ledger ledger, Random random, CancellationToken stop)
        {
            while (!stop.IsCancellationRequested)
            {
                var key = $"k{random.Next(Keys)}";
                var delta = random.Next(1, 10);
                object? reply;
                try
                {
                    reply = await counters.Region.Ask<ICounterReply>(new Increment(key, delta), AskTimeout);
                }
                catch (AskTimeoutException)
                {
                    reply = null;
                }

                ledger.Record(key, delta, reply);
            }
        }
    }
}
