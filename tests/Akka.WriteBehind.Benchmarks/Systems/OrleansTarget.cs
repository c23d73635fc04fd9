using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Akka.WriteBehind.Counters;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;

namespace Akka.WriteBehind.Benchmarks.Systems;

/// <summary>A counter grain: <c>[OneWay]</c> increments, a grain timer that hands the pending delta to the shared writer.</summary>
public interface ICounterGrain : IGrainWithStringKey
{
    /// <summary>Adds <paramref name="delta"/>; one-way, the caller does not wait.</summary>
    [OneWay]
    Task Increment(long delta);
}

/// <summary>One grain per key; flushes its pending delta every flush interval through <see cref="OrleansCounterWriter"/>.</summary>
internal sealed class CounterGrain(OrleansCounterWriter writer) : Grain, ICounterGrain
{
    private long _pending;
    private long _seq;
    private IGrainTimer? _timer;

    public Task Increment(long delta)
    {
        _pending += delta;
        _timer ??= this.RegisterGrainTimer(Flush, writer.FlushInterval, writer.FlushInterval);
        return Task.CompletedTask;
    }

    private Task Flush()
    {
        if (_pending == 0)
            return Task.CompletedTask;
        writer.Enqueue(new CounterWrite(this.GetPrimaryKeyString(), _pending, ++_seq));
        _pending = 0;
        return Task.CompletedTask;
    }
}

/// <summary>The node's writer of the Orleans peer: a channel drained in groups of up to 500 writes, each one
/// <see cref="ICounterStore.ApplyAsync"/> (the same SQLite upsert as the library).</summary>
internal sealed class OrleansCounterWriter(ICounterStore store, TimeSpan flushInterval)
{
    private const int BatchSize = 500;
    private readonly Channel<CounterWrite> _channel = Channel.CreateUnbounded<CounterWrite>(new UnboundedChannelOptions { SingleReader = true });

    public TimeSpan FlushInterval => flushInterval;

    public void Enqueue(CounterWrite write) => _channel.Writer.TryWrite(write);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var batch = new List<CounterWrite>(BatchSize);
        while (await _channel.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            while (batch.Count < BatchSize && _channel.Reader.TryRead(out var write))
                batch.Add(write);
            await store.ApplyAsync(batch.ToArray(), cancellationToken).ConfigureAwait(false);
            batch.Clear();
        }
    }
}

/// <summary>
/// The peer a .NET user would pick instead, set up as its users would: Microsoft Orleans, one in-process silo on localhost
/// clustering, a grain per key with <c>[OneWay]</c> increments sent from one thread per core, and a grain timer flushing
/// through the same SQL upsert.
/// </summary>
internal sealed class OrleansTarget : IBenchTarget
{
    /// <summary>Environment variable that sets <see cref="SenderThreads"/> for an A/B against other counts.</summary>
    public const string SenderThreadsVariable = "WRITEBEHIND_BENCH_ORLEANS_SENDERS";

    /// <summary>Threads sending increments: one per core, unless <see cref="SenderThreadsVariable"/> says otherwise.</summary>
    public static readonly int SenderThreads =
        int.TryParse(Environment.GetEnvironmentVariable(SenderThreadsVariable), out var n) && n > 0 ? n : Environment.ProcessorCount;

    private readonly CancellationTokenSource _stop = new();
    private IHost? _host;
    private CountingStore? _store;
    private Task _writer = Task.CompletedTask;
    private IGrainFactory? _grains;

    public long RowsWritten => _store?.Rows ?? 0;

    public async Task StartAsync(string dbFile, Scenario scenario, string[] keys)
    {
        _store = new CountingStore(new SqliteCounterStore($"Data Source={dbFile}"));
        await _store.InitializeAsync();
        var writer = new OrleansCounterWriter(_store, scenario.FlushInterval);
        _writer = writer.RunAsync(_stop.Token);
        _host = Host.CreateDefaultBuilder()
            .ConfigureLogging(logging => logging.SetMinimumLevel(LogLevel.Warning))
            .ConfigureServices(services => services.AddSingleton(writer))
            .UseOrleans(silo => silo.UseLocalhostClustering(FreePort(), FreePort()))
            .Build();
        await _host.StartAsync();
        _grains = _host.Services.GetRequiredService<IGrainFactory>();
    }

    public Task<SendResult> SendAsync(string[] keys, int[] sequence, Pacer pacer, TimeSpan cap)
    {
        // one sender thread per core, each taking every SenderThreads-th increment: how an Orleans user feeds one-way calls
        // (one thread measured 109k/s here, two 168-210k/s); the grain calls themselves run on the silo's scheduler
        var grains = _grains!;
        var senders = Enumerable.Range(0, SenderThreads).Select(first => new Thread(() =>
        {
            for (var i = first; i < sequence.Length; i += SenderThreads)
            {
                pacer.Wait(i);
                _ = grains.GetGrain<ICounterGrain>(keys[sequence[i]]).Increment(1);
            }
        }) { IsBackground = true, Name = $"orleans-sender-{first}" }).ToArray();
        foreach (var sender in senders)
            sender.Start();
        foreach (var sender in senders)
            sender.Join();

        return Task.FromResult(new SendResult(sequence.Length, sequence.Length, 0));
    }

    public async ValueTask DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.StopAsync(TimeSpan.FromSeconds(10));
            _host.Dispose();
        }

        await _stop.CancelAsync();
        try
        {
            await _writer;
        }
        catch (OperationCanceledException)
        {
            // stopped on purpose
        }

        _stop.Dispose();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
