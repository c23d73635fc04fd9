using Akka.Actor;
using Akka.Streams;
using Akka.Streams.Dsl;
using Akka.TestKit;
using Akka.WriteBehind.Batches;
using Akka.WriteBehind.Samples.Accounts;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Support;

/// <summary>
/// A one-node cluster (the TestKit's system joins itself) running one batch resource type under <see cref="TypeName"/>.
/// Its batch metrics are sent to <see cref="MetricsProbe"/>.
/// </summary>
public abstract class BatchSpecBase<TResource> : Akka.TestKit.Xunit2.TestKit, IAsyncLifetime where TResource : notnull
{
    internal static readonly TimeSpan AwaitTimeout = TimeSpan.FromSeconds(30);
    private BatchProcessor<TResource>? _processor;

    protected BatchSpecBase(ITestOutputHelper output, string config, string typeName)
        : base(TestConfig.Cluster(config), output: output)
    {
        TypeName = typeName;
        MetricsProbe = CreateTestProbe();
    }

    internal string TypeName { get; }

    internal TestProbe MetricsProbe { get; }

    internal BatchProcessor<TResource> Processor => _processor ?? throw new InvalidOperationException("not started");

    /// <summary>The store the resource type runs on.</summary>
    internal abstract IResourceStore<TResource> ResourceStore { get; }

    internal abstract OperationHandler<TResource> Handler { get; }

    public virtual async Task InitializeAsync()
    {
        await Cluster.Cluster.Get(Sys).JoinAsync(Cluster.Cluster.Get(Sys).SelfAddress);
        _processor = await WriteBehindBatches.StartAsync(Sys, TypeName, ResourceStore, Handler);
        Processor.Metrics().RunWith(Sink.ActorRef<BatchMetric>(MetricsProbe, "completed", e => e), Sys.Materializer());
    }

    public virtual Task DisposeAsync() => Task.CompletedTask;

    /// <summary>The outcome of a call that must fail.</summary>
    internal static Task<BatchOperationException> FailureOf(Task task) =>
        Assert.ThrowsAsync<BatchOperationException>(() => task.WaitAsync(AwaitTimeout));

    /// <summary>The next batch metric of <paramref name="key"/> (metrics of other keys are skipped).</summary>
    internal async Task<BatchMetric> NextMetricAsync(string key)
    {
        while (true)
        {
            var metric = await MetricsProbe.ExpectMsgAsync<BatchMetric>(AwaitTimeout);
            if (metric.Key == key)
                return metric;
        }
    }
}

/// <summary>The <see cref="Tape"/> resource type on a <see cref="TapeStore"/>.</summary>
public abstract class TapeSpecBase(ITestOutputHelper output, string config = "", string typeName = "tapes")
    : BatchSpecBase<Tape>(output, config, typeName)
{
    internal TapeStore Store { get; } = new();

    internal override IResourceStore<Tape> ResourceStore => Store;

    internal override OperationHandler<Tape> Handler => TapeHandler.Instance;

    internal Task<TapeLength> RunAsync(string key, IBatchOperation<TapeLength> operation, CancellationToken cancellationToken = default) =>
        Processor.RunAsync(key, operation, cancellationToken);

    /// <summary>
    /// Closes the store's load gate (or its save gate) for <paramref name="key"/> only, runs <paramref name="operation"/>, and
    /// returns the pending call once the entity is held loading (or saving) the key's batch; <c>Store.OpenGates()</c> releases it.
    /// </summary>
    internal async Task<Task<TapeLength>> RunHeldAsync(string key, IBatchOperation<TapeLength> operation, bool holdSave = false)
    {
        Store.GateOnlyKey = key;
        if (holdSave)
            Store.CloseSaveGate();
        else
            Store.CloseLoadGate();
        var run = RunAsync(key, operation);
        await GatedCallAsync(key);
        return run;
    }

    /// <summary>Waits until the store has seen a gated call for <paramref name="key"/>: the entity is loading (or saving) it now.</summary>
    internal Task GatedCallAsync(string key) =>
        Eventually.TrueAsync(() => Store.GatedCalls.Contains(key), AwaitTimeout, $"a gated store call for [{key}]");
}

/// <summary>The <see cref="Account"/> resource type on a real SQLite file in a temp directory (<see cref="Sqlite"/>), wrapped by
/// <see cref="Store"/> when a subclass sets it in its constructor.</summary>
public abstract class AccountSpecBase : BatchSpecBase<Account>
{
    private readonly TempDirectory _dir = new();

    protected AccountSpecBase(ITestOutputHelper output, string config = "")
        : base(output, config, AccountOperations.TypeName)
    {
        Sqlite = SqliteAccountStore.ForDirectory(_dir.Path);
        Store = Sqlite;
    }

    internal TempDirectory Dir => _dir;

    internal SqliteAccountStore Sqlite { get; }

    internal IResourceStore<Account> Store { get; set; }

    internal override IResourceStore<Account> ResourceStore => Store;

    internal override OperationHandler<Account> Handler => AccountOperations.Instance;

    internal async Task<long> BalanceAsync(string key) =>
        (await Processor.RunAsync(key, GetBalance.Instance).WaitAsync(AwaitTimeout)).Balance;

    protected override void AfterAll()
    {
        base.AfterAll();
        _dir.Dispose();
    }
}

/// <summary>Two ActorSystems on 127.0.0.1 forming one cluster, for the batch specs that need a second node.</summary>
internal static class TwoNodeCluster
{
    /// <summary>Starts two systems named <paramref name="name"/> with <paramref name="config"/> and waits until both see both Up.</summary>
    public static async Task<ActorSystem[]> StartAsync(string name, Akka.Configuration.Config config, TimeSpan timeout)
    {
        var nodes = new[] { ActorSystem.Create(name, config), ActorSystem.Create(name, config) };
        await Cluster.Cluster.Get(nodes[0]).JoinAsync(Cluster.Cluster.Get(nodes[0]).SelfAddress);
        await Cluster.Cluster.Get(nodes[1]).JoinAsync(Cluster.Cluster.Get(nodes[0]).SelfAddress);
        await Eventually.TrueAsync(() => nodes.All(n => Cluster.Cluster.Get(n).State.Members.Count(m => m.Status == Cluster.MemberStatus.Up) == 2),
            timeout, "both nodes Up on both nodes");
        return nodes;
    }
}
