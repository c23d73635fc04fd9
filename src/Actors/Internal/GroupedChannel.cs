using System.Threading.Channels;
using Akka.Actor;
using Akka.Streams;
using Akka.Streams.Dsl;

namespace Akka.WriteBehind.Internal;

/// <summary>
/// INTERNAL API
/// <para>
/// The node-local writers' pipeline: a bounded channel drained by an Akka.Streams graph that takes groups of at most
/// <c>batchSize</c> items (or what arrived within <c>delay</c>) and hands at most <c>parallelism</c> groups at a time to
/// <c>handle</c>. A zero <c>delay</c> waits for nothing: an item goes out at once while fewer than <c>parallelism</c> groups
/// are being handled, and the items that arrive while all are busy form the next group (group commit). A positive
/// <c>delay</c> rides Akka's scheduler, whose timers fire on a 10 ms tick, so every item of a quiet pipeline waits for it.
/// The caller writes with <see cref="ChannelWriter{T}.TryWrite"/> (a full channel refuses at once) and completes the writer in
/// <c>PostStop</c>. The graph runs on the owning actor's materializer, so it dies with the actor; it never completes on its own, and when it ends anyway (a failed <c>handle</c> task) the actor receives
/// <see cref="Status.Failure"/>.
/// </para>
/// </summary>
internal static class GroupedChannel
{
    /// <summary>Starts the pipeline and returns its channel's writer.</summary>
    /// <param name="materializer">The owning actor's materializer (<c>Context.Materializer()</c>).</param>
    /// <param name="owner">The owning actor, told <see cref="Status.Failure"/> when the graph ends.</param>
    /// <param name="capacity">Items queued at most.</param>
    /// <param name="batchSize">Most items in one group.</param>
    /// <param name="delay">Longest an item waits for its group to fill; zero groups only what arrives while every slot is busy.</param>
    /// <param name="parallelism">Groups handled at the same time.</param>
    /// <param name="handle">Handles one group; runs inside the stream, so it must not touch actor state.</param>
    /// <param name="name">What the pipeline does, for the failure message ("write", "load", "save").</param>
    public static ChannelWriter<T> Start<T>(IMaterializer materializer, IActorRef owner, int capacity, int batchSize, TimeSpan delay,
        int parallelism, Func<T[], Task<Done>> handle, string name)
    {
        var channel = Channel.CreateBounded<T>(new BoundedChannelOptions(capacity) { SingleWriter = true, SingleReader = true });
        Run(channel.Reader, materializer, owner, batchSize, delay, parallelism, handle, name);
        return channel.Writer;
    }

    /// <summary>Runs the pipeline on <paramref name="reader"/> (the specs watch the channel drain).</summary>
    internal static void Run<T>(ChannelReader<T> reader, IMaterializer materializer, IActorRef owner, int batchSize, TimeSpan delay,
        int parallelism, Func<T[], Task<Done>> handle, string name)
    {
        var items = ChannelSource.FromReader(reader);
        var groups = delay > TimeSpan.Zero
            ? items.GroupedWithin(batchSize, delay).Select(group => group.ToArray())
            : items.Batch(batchSize, item => new List<T> { item }, (group, item) =>
            {
                group.Add(item);
                return group;
            }).Select(group => group.ToArray());
        groups
            .SelectAsync(parallelism, handle)
            .RunWith(Sink.Ignore<Done>(), materializer)
            .PipeTo(owner, success: () => new Status.Failure(new InvalidOperationException($"{name} stream completed")));
    }
}
