using Akka.Actor;
using Akka.WriteBehind.Batches;
using Akka.WriteBehind.Samples.Accounts;
using Akka.WriteBehind.Tests.Support;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Batches;

/// <summary>
/// Two ActorSystems on 127.0.0.1 running accounts on one SQLite file: deposits with request ids, retried until acknowledged
/// while the owner of their key leaves (hand-off), and re-sent after their acknowledgement, are applied exactly once.
/// </summary>
public sealed class BatchIdempotencyClusterSpec(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Should_apply_each_retried_request_once_across_a_hand_off()
    {
        using var dir = new TempDirectory();
        var config = TestConfig.Cluster("""
            akka.write-behind.batches.types.accounts { min-duration = 300ms, max-duration = 5s, reply-timeout-margin = 2s }
            """);
        var nodes = await TwoNodeCluster.StartAsync("batch-idem-cluster", config, Timeout);
        try
        {
            var processors = new BatchProcessor<Account>[2];
            for (var i = 0; i < 2; i++)
                processors[i] = await WriteBehindBatches.StartAsync(nodes[i], AccountOperations.TypeName,
                    SqliteAccountStore.ForDirectory(dir.Path), AccountOperations.Instance);

            const string key = "retried";
            var before = await processors[0].RunAsync(key, new Deposit(1000), "before").WaitAsync(Timeout);
            var owner = await OwnerAsync(nodes, key);
            var survivor = 1 - owner;

            // 30 deposits sent from the survivor while the owner leaves; each retried with its id until acknowledged
            var amounts = Enumerable.Range(1, 30).ToArray();
            var leaving = Task.Run(() => CoordinatedShutdown.Get(nodes[owner]).Run(CoordinatedShutdown.ClrExitReason.Instance));
            var retries = 0;
            var acknowledged = await Task.WhenAll(amounts.Select(async amount =>
            {
                while (true)
                {
                    try
                    {
                        return await processors[survivor].RunAsync(key, new Deposit(amount), $"dep-{amount}", TimeSpan.FromSeconds(5));
                    }
                    catch (BatchOperationException e) when (e.Code is ErrorCode.Timeout or ErrorCode.ShuttingDown or ErrorCode.Cancelled)
                    {
                        Interlocked.Increment(ref retries); // outcome unknown or not run: the same id again
                    }
                }
            })).WaitAsync(Timeout);
            await leaving.WaitAsync(Timeout);
            output.WriteLine($"owner node{owner} left; {retries} retries");

            // re-sent after their acknowledgement: the first answers, nothing applied again
            for (var i = 0; i < amounts.Length; i++)
            {
                var repeat = await processors[survivor].RunAsync(key, new Deposit(amounts[i]), $"dep-{amounts[i]}").WaitAsync(Timeout);
                Assert.Equal(acknowledged[i], repeat);
            }

            Assert.Equal(before, await processors[survivor].RunAsync(key, new Deposit(1000), "before").WaitAsync(Timeout));
            var expected = 1000 + amounts.Sum();
            Assert.Equal(expected, (await processors[survivor].RunAsync(key, GetBalance.Instance).WaitAsync(Timeout)).Balance);
            Assert.Equal(expected, (await AccountsTable.ReadAsync(dir.DatabaseFile, key)).Balance);
        }
        finally
        {
            await Task.WhenAll(nodes.Select(n => n.Terminate())).WaitAsync(Timeout);
        }
    }

    private static async Task<int> OwnerAsync(ActorSystem[] nodes, string key)
    {
        for (var i = 0; i < nodes.Length; i++)
        {
            try
            {
                await nodes[i].ActorSelection($"/system/sharding/{AccountOperations.TypeName}/*/{key}").ResolveOne(TimeSpan.FromSeconds(3));
                return i;
            }
            catch (ActorNotFoundException)
            {
            }
        }

        throw new InvalidOperationException($"no node holds the entity of [{key}]");
    }
}
