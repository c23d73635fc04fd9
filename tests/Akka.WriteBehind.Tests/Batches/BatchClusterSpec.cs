using System.Collections.Concurrent;
using Akka.Actor;
using Akka.WriteBehind.Batches;
using Akka.WriteBehind.Samples.Accounts;
using Akka.WriteBehind.Tests.Support;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Batches;

/// <summary>Two ActorSystems on 127.0.0.1 forming one cluster, both running accounts on the same SQLite file.</summary>
public sealed class BatchClusterSpec(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Should_run_a_key_on_one_owner_when_two_nodes_send_it_operations_and_hand_it_off_when_the_owner_leaves()
    {
        using var dir = new TempDirectory();
        var log = new StoreLog();
        var config = TestConfig.Cluster("""
            akka.write-behind.batches.types.accounts { min-duration = 300ms, max-duration = 5s, reply-timeout-margin = 2s }
            """);
        var nodes = await TwoNodeCluster.StartAsync("batch-cluster", config, Timeout);
        try
        {
            var processors = new BatchProcessor<Account>[2];
            for (var i = 0; i < 2; i++)
                processors[i] = await WriteBehindBatches.StartAsync(nodes[i], AccountOperations.TypeName,
                    new LoggingAccountStore(SqliteAccountStore.ForDirectory(dir.Path), $"node{i}", log), AccountOperations.Instance);

            // act: 400 deposits of distinct amounts on one key, alternately from both nodes, all at once
            var amounts = Enumerable.Range(1, 400).ToArray();
            var balances = await Task.WhenAll(amounts.Select(a => processors[a % 2].RunAsync("shared", new Deposit(a)))).WaitAsync(Timeout);

            // one owner: the store saw the key from one node only, never two calls at once; every deposit saw a new state
            var owners = log.NodesOf("shared");
            Assert.Single(owners);
            Assert.Equal(1, log.MaxOverlap);
            Assert.Equal(balances.Length, balances.Select(b => b.Balance).Distinct().Count());
            long expected = amounts.Sum();
            Assert.Equal(expected, balances.Max(b => b.Balance));
            output.WriteLine($"owner {owners[0]}: {log.Count("shared")} store calls for 400 operations");

            // the owner leaves while deposits from the other node are arriving: its open batch is saved, the key moves. A
            // deposit reaching the owner's shard while it hands off is dropped by Akka's sharding (at-most-once delivery): its
            // caller gets Timeout, outcome unknown; one reaching the stopping entity is refused with ShuttingDown.
            var survivor = owners[0] == "node0" ? 1 : 0;
            var during = Enumerable.Range(1, 20)
                .Select(a => processors[survivor].RunAsync("shared", new Deposit(a), TimeSpan.FromSeconds(5)))
                .ToArray();
            await CoordinatedShutdown.Get(nodes[1 - survivor]).Run(CoordinatedShutdown.ClrExitReason.Instance).WaitAsync(Timeout);
            var unknown = new List<int>();
            var outcomes = new Dictionary<string, int>();
            for (var i = 0; i < during.Length; i++)
            {
                var outcome = "ok";
                try
                {
                    await during[i].WaitAsync(Timeout);
                    expected += i + 1;
                }
                catch (BatchOperationException e) when (e.Code is ErrorCode.ShuttingDown or ErrorCode.Timeout)
                {
                    outcome = e.Code.ToString();
                    if (e.Code == ErrorCode.Timeout)
                        unknown.Add(i + 1);
                }

                outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
            }

            output.WriteLine($"deposits during the hand-off: {string.Join(", ", outcomes.Select(o => $"{o.Value} {o.Key}"))}");
            var after = await processors[survivor].RunAsync("shared", new Deposit(1000)).WaitAsync(Timeout);
            expected += 1000;
            // every acknowledged deposit is in; of the unknown ones, some subset
            Assert.Contains(after.Balance - expected, SubsetSums(unknown));
            Assert.Equal(after.Balance, (await AccountsTable.ReadAsync(dir.DatabaseFile, "shared")).Balance);
            Assert.Contains($"node{survivor}", log.NodesOf("shared"));
            Assert.Equal(1, log.MaxOverlap);
        }
        finally
        {
            await Task.WhenAll(nodes.Select(n => n.Terminate())).WaitAsync(Timeout);
        }
    }

    private static HashSet<long> SubsetSums(IEnumerable<int> amounts)
    {
        var sums = new HashSet<long> { 0 };
        foreach (var amount in amounts)
            sums.UnionWith(sums.Select(s => s + amount).ToArray());
        return sums;
    }

    /// <summary>Which node called the store for which key, and the most calls for one key ever in flight at once, over all nodes.</summary>
    private sealed class StoreLog
    {
        private readonly ConcurrentQueue<(string Node, string Key)> _calls = new();
        private readonly ConcurrentDictionary<string, int> _active = new();
        private int _maxOverlap;

        public int MaxOverlap => Volatile.Read(ref _maxOverlap);

        public string[] NodesOf(string key) => _calls.Where(c => c.Key == key).Select(c => c.Node).Distinct().ToArray();

        public int Count(string key) => _calls.Count(c => c.Key == key);

        public async Task<T> CallAsync<T>(string node, IEnumerable<string> keys, Func<Task<T>> call)
        {
            var held = keys.ToArray();
            foreach (var key in held)
            {
                _calls.Enqueue((node, key));
                var now = _active.AddOrUpdate(key, 1, (_, n) => n + 1);
                int max;
                while (now > (max = Volatile.Read(ref _maxOverlap)) && Interlocked.CompareExchange(ref _maxOverlap, now, max) != max)
                {
                }
            }

            try
            {
                return await call();
            }
            finally
            {
                foreach (var key in held)
                    _active.AddOrUpdate(key, 0, (_, n) => n - 1);
            }
        }
    }

    private sealed class LoggingAccountStore(SqliteAccountStore inner, string node, StoreLog log) : IBulkResourceStore<Account>
    {
        public Task InitializeAsync(CancellationToken cancellationToken = default) => inner.InitializeAsync(cancellationToken);

        public Task<Account> LoadAsync(string key, CancellationToken cancellationToken) =>
            log.CallAsync(node, [key], () => inner.LoadAsync(key, cancellationToken));

        public Task<Account> SaveAsync(string key, Account resource, CancellationToken cancellationToken) =>
            log.CallAsync(node, [key], () => inner.SaveAsync(key, resource, cancellationToken));

        public Task<IReadOnlyDictionary<string, Account>> SaveManyAsync(IReadOnlyDictionary<string, Account> resources, CancellationToken cancellationToken) =>
            log.CallAsync(node, resources.Keys, () => inner.SaveManyAsync(resources, cancellationToken));
    }
}
