using Akka.Actor;
using Akka.Cluster;
using Akka.WriteBehind.Counters;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Support;

/// <summary>
/// A one-node cluster (the TestKit's system joins itself) running write-behind counters on a real database: by default a
/// SQLite file in a temp directory, or the <see cref="TestDatabase"/> given (journal durability, when switched on, journals
/// to the same database). Subclasses may wrap the store for counting or failure injection.
/// </summary>
public abstract class CounterSpecBase : Akka.TestKit.Xunit2.TestKit, IAsyncLifetime
{
    internal static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(15);
    internal static readonly TimeSpan AwaitTimeout = TimeSpan.FromSeconds(30);
    private CounterSet? _counters;

    protected CounterSpecBase(ITestOutputHelper output, string config = "")
        : this(output, config, new SqliteTestDatabase())
    {
    }

    protected CounterSpecBase(ITestOutputHelper output, string config, TestDatabase database)
        : base(TestConfig.Cluster(config, database), output: output)
    {
        Database = database;
        Target = database.CreateStore();
        Store = Target;
    }

    /// <summary>Where the counters (and the journal) are written.</summary>
    internal TestDatabase Database { get; }

    /// <summary>The real store underneath.</summary>
    internal ICounterStore Target { get; }

    /// <summary>The store the counters use (set in the subclass constructor to wrap <see cref="Target"/>).</summary>
    internal ICounterStore Store { get; set; }

    internal CounterSet Counters => _counters ?? throw new InvalidOperationException("not started");

    internal IActorRef Region => Counters.Region;

    public virtual async Task InitializeAsync()
    {
        await Cluster.Cluster.Get(Sys).JoinAsync(Cluster.Cluster.Get(Sys).SelfAddress);
        _counters = await WriteBehindCounters.StartAsync(Sys, Store);
    }

    /// <summary>Stops the node the way an operator would (every entity flushes) while its database still exists.</summary>
    public virtual async Task DisposeAsync() =>
        await CoordinatedShutdown.Get(Sys).Run(CoordinatedShutdown.ClrExitReason.Instance).WaitAsync(TimeSpan.FromSeconds(60));

    protected override void AfterAll()
    {
        base.AfterAll();
        Database.Dispose();
    }

    internal Task<ICounterReply> AskAsync(ICounterCommand command) => Region.Ask<ICounterReply>(command, AskTimeout);

    /// <summary>
    /// Asks <paramref name="command"/> (a read or a flush: safe to repeat) of a key whose entity just stopped without
    /// passivating, again until it is answered: until the shard hears of the stop it may still hand the key's messages to
    /// the stopped entity, and Akka drops them.
    /// </summary>
    internal async Task<ICounterReply> AskAfterStopAsync(ICounterCommand command)
    {
        var deadline = DateTime.UtcNow + AwaitTimeout;
        while (true)
        {
            try
            {
                return await Region.Ask<ICounterReply>(command, TimeSpan.FromSeconds(10));
            }
            catch (AskTimeoutException) when (DateTime.UtcNow < deadline)
            {
                // dropped on the way to the stopped entity: the shard knows of the stop by now
            }
        }
    }

    internal async Task<long> StoredValueAsync(string key) => (await Target.ReadAsync([key]))[key].Value;

    /// <summary>
    /// Acknowledged increments of 1 to <paramref name="key"/> until more than <paramref name="routedBefore"/> increments went
    /// through a shard log's route (journal durability: the key's entity offers its route once nothing of it waits for the log).
    /// </summary>
    /// <returns>How many were sent.</returns>
    internal async Task<long> IncrementUntilRoutedAsync(string key, long routedBefore = 0)
    {
        var sent = 0L;
        await AwaitAssertAsync(async () =>
        {
            Assert.IsType<IncrementAccepted>(await Counters.IncrementAsync(key, 1));
            sent++;
            Assert.True(Counters.Ledger!.RoutedIncrements > routedBefore);
        }, AwaitTimeout, TimeSpan.FromMilliseconds(100));
        return sent;
    }
}
