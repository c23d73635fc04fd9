using Akka.Hosting;
using Akka.WriteBehind.Batches;
using Akka.WriteBehind.Hosting;
using Akka.WriteBehind.Tests.Support;
using static Akka.WriteBehind.Tests.Support.ClusterHosts;

namespace Akka.WriteBehind.Tests.Hosting;

/// <summary>A batch resource type with a role: node B, without it, runs operations whose resources live on node A.</summary>
public sealed class BatchRoleSpec : IAsyncLifetime
{
    private readonly TapeStore _store = new();
    private readonly ClusterHosts _cluster = new();

    [Fact]
    public async Task Should_host_no_resource_of_the_type_on_a_node_without_the_role()
    {
        var (a, b) = await _cluster.StartTwoAsync(Build("batch-roles", Tapes, "batches"), Build("batch-roles", Tapes));
        var onB = WriteBehindBatches.Processor<Tape>(SystemOf(b));

        // B's region answers once it is known to the coordinator: it would be counted as a region by now if it hosted
        var regions = await RegionsAsync(onB.ShardRegion);
        Assert.Single(regions);
        Assert.DoesNotContain(Cluster.Cluster.Get(SystemOf(b)).SelfAddress, regions);

        for (var i = 0; i < 20; i++)
            Assert.Equal(new TapeLength(1), await onB.RunAsync($"t{i}", new Append("x")).WaitAsync(Patience));
        Assert.Equal(1, _store.Saves("t7"));

        Assert.Equal(20, await EntitiesAsync(WriteBehindBatches.Processor<Tape>(SystemOf(a)).ShardRegion));
        Assert.Equal(0, await EntitiesAsync(onB.ShardRegion));
    }

    private void Tapes(AkkaConfigurationBuilder builder) => builder.WithWriteBehindBatches<Tape>(o =>
    {
        o.TypeName = "tapes";
        o.Handler = TapeHandler.Instance;
        o.Store = _store;
        o.Role = "batches";
        o.MaxDuration = TimeSpan.FromSeconds(5);
    });

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _cluster.DisposeAsync();
}
