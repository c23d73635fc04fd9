using Akka.Actor;
using Akka.Cluster;
using Akka.Configuration;
using Akka.WriteBehind.Counters;
using Akka.WriteBehind.Storage;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Support;

/// <summary>
/// A one-node cluster (the TestKit's system joins itself) running write-behind counters on a real SQLite file in a temp
/// directory. Subclasses may wrap the store for counting or failure injection.
/// </summary>
public abstract class CounterSpecBase : Akka.TestKit.Xunit2.TestKit, IAsyncLifetime
{
    internal static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(15);
    internal static readonly TimeSpan AwaitTimeout = TimeSpan.FromSeconds(30);
    private readonly TempDirectory _dir;
    private CounterSet? _counters;

    protected CounterSpecBase(ITestOutputHelper output, string config = "")
        : this(output, config, new TempDirectory())
    {
    }

    private CounterSpecBase(ITestOutputHelper output, string config, TempDirectory dir)
        : base(TestConfig.Cluster(config, dir), output: output)
    {
        _dir = dir;
        Sqlite = SqliteCounterStore.ForDirectory(_dir.Path);
        Store = Sqlite;
    }

    internal TempDirectory Dir => _dir;

    /// <summary>The real store underneath.</summary>
    internal SqliteCounterStore Sqlite { get; }

    /// <summary>The store the counters use (set in the subclass constructor to wrap <see cref="Sqlite"/>).</summary>
    internal ICounterStore Store { get; set; }

    internal CounterSet Counters => _counters ?? throw new InvalidOperationException("not started");

    internal IActorRef Region => Counters.Region;

    public virtual async Task InitializeAsync()
    {
        await Cluster.Cluster.Get(Sys).JoinAsync(Cluster.Cluster.Get(Sys).SelfAddress);
        _counters = await WriteBehindCounters.StartAsync(Sys, Store);
    }

    /// <summary>Stops the node the way an operator would (every entity flushes) while its files still exist.</summary>
    public virtual async Task DisposeAsync() =>
        await CoordinatedShutdown.Get(Sys).Run(CoordinatedShutdown.ClrExitReason.Instance).WaitAsync(TimeSpan.FromSeconds(60));

    protected override void AfterAll()
    {
        base.AfterAll();
        _dir.Dispose();
    }

    internal Task<ICounterReply> AskAsync(ICounterCommand command) => Region.Ask<ICounterReply>(command, AskTimeout);

    internal async Task<long> StoredValueAsync(string key) => (await Sqlite.ReadAsync([key]))[key].Value;
}
