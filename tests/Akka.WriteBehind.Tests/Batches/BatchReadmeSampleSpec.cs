using System.Collections.Concurrent;
using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Hosting;
using Akka.Remote.Hosting;
using Akka.WriteBehind.Batches;
using Akka.WriteBehind.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Akka.WriteBehind.Tests.Batches;

// The "Batches" sample of docs/batches.md, as written there (keep them the same).
public sealed record Cart(ImmutableList<string> Items) { public static readonly Cart Empty = new(ImmutableList<string>.Empty); }
public sealed record AddItem(string Sku) : IBatchOperation<CartSize>;
public sealed record CartSize(int Items);

public sealed class CartHandler : OperationHandler<Cart>
{
    public override OperationOutcome<Cart> Apply(string key, Cart cart, IBatchOperation operation) => operation switch
    {
        AddItem when cart.Items.Count >= 100 => Reject("a cart holds at most 100 items"),
        AddItem add => Changed(cart with { Items = cart.Items.Add(add.Sku) }, new CartSize(cart.Items.Count + 1)),
        _ => Reject($"{operation.GetType().Name} is not a cart operation", ErrorCode.InvalidArgument),
    };
}

public sealed class CartStore : IResourceStore<Cart> // your database here
{
    private readonly ConcurrentDictionary<string, Cart> _carts = new();
    public Task InitializeAsync(CancellationToken ct = default) => Task.CompletedTask;
    public Task<Cart> LoadAsync(string key, CancellationToken ct) => Task.FromResult(_carts.GetValueOrDefault(key, Cart.Empty));
    public Task<Cart> SaveAsync(string key, Cart cart, CancellationToken ct) => Task.FromResult(_carts[key] = cart);
}

public sealed class BatchReadmeSampleSpec
{
    [Fact]
    public async Task Should_run_the_readme_cart_sample()
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder();
        builder.Services.AddAkka("shop", akka => akka
            .AddHocon("akka.coordinated-shutdown.run-by-clr-shutdown-hook = off", HoconAddMode.Prepend)
            .WithRemoting("127.0.0.1", 0)
            .WithClustering()
            .AddStartup((system, _) => Cluster.Cluster.Get(system).Join(Cluster.Cluster.Get(system).SelfAddress))
            .WithWriteBehindBatches<Cart>(options =>
            {
                options.TypeName = "carts";
                options.Handler = new CartHandler();
                options.Store = new CartStore();
                options.KeepLoaded = true;
                options.MaxDuration = TimeSpan.FromSeconds(5); // a busy test machine
            }));
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            var system = host.Services.GetRequiredService<ActorSystem>();
            var carts = await host.Services.GetRequiredService<IRequiredActor<BatchRegion<Cart>>>().GetProcessorAsync(system);

            var sizes = await Task.WhenAll(Enumerable.Range(0, 100).Select(i => carts.RunAsync("cart:42", new AddItem($"sku-{i}"))))
                .WaitAsync(TimeSpan.FromSeconds(30));
            var full = await Assert.ThrowsAsync<BatchOperationException>(() => carts.RunAsync("cart:42", new AddItem("one-too-many")));

            Assert.Equal(Enumerable.Range(1, 100), sizes.Select(s => s.Items).Order());
            Assert.True(full.IsRejection);
            Assert.Equal(ErrorCode.Rejected, full.Code);
        }
        finally
        {
            await host.StopAsync();
        }
    }
}
