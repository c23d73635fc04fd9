using System.Diagnostics;
using System.Threading.Channels;
using Akka.Actor;
using Akka.Streams;
using Akka.Streams.Dsl;
using Akka.Util;

namespace Akka.WriteBehind.Internal;

/// <summary>
/// INTERNAL API
/// <para>
/// The node-local writers' pipeline: a bounded channel drained by an Akka.Streams graph that takes groups of at most
/// <c>batchSize</c> items and hands at most <c>parallelism</c> groups at a time to <c>handle</c>. The items that arrive while
/// every slot is busy form the next group and go as soon as a slot is free (group commit); an item that finds a slot free
/// waits up to <c>delay</c> for others to join it (zero: not at all).
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
    /// <param name="delay">Longest an item that finds a slot free waits for others to join its group; zero: it goes at once.</param>
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

    /// <summary>Runs the pipeline on <paramref name="reader"/> (specs keep the channel to write to it and watch it).</summary>
    internal static void Run<T>(ChannelReader<T> reader, IMaterializer materializer, IActorRef owner, int batchSize, TimeSpan delay,
        int parallelism, Func<T[], Task<Done>> handle, string name)
    {
        var groups = new Groups<T>(reader, batchSize, delay);
        Source.UnfoldAsync(groups, next => next.NextAsync())
            .SelectAsync(parallelism, handle)
            .RunWith(Sink.Ignore<Done>(), materializer)
            .PipeTo(owner, success: () => new Status.Failure(new InvalidOperationException($"{name} stream completed")));
    }

    /// <summary>
    /// Takes the next group when a slot asks for one. Items that queued while every slot was busy go at once (they waited
    /// already); into an idle pipeline the first item opens a window of <c>delay</c> for others to join. The window is
    /// timed by the runtime's timers (about a millisecond), not by Akka's scheduler and its 10 ms tick.
    /// </summary>
    private sealed class Groups<T>(ChannelReader<T> reader, int batchSize, TimeSpan delay)
    {
        private static readonly TimeSpan LongestWait = TimeSpan.FromDays(1);
        private bool _asked; // before the first ask no slot was busy: what waits then found the slots free

        public async Task<Option<(Groups<T>, T[])>> NextAsync()
        {
            var group = new List<T>(Math.Min(batchSize, 64));
            if (Take(group) && _asked)
                return (this, group.ToArray()); // queued while every slot was busy: it waited already
            _asked = true;
            if (group.Count == 0)
            {
                if (!await reader.WaitToReadAsync().ConfigureAwait(false))
                    return Option<(Groups<T>, T[])>.None; // the owner completed the channel
                Take(group);
            }

            await JoinWithinDelayAsync(group).ConfigureAwait(false);
            return (this, group.ToArray());
        }

        /// <summary>Lets what arrives within <c>delay</c> of the group's first item join it, up to its size.</summary>
        private async Task JoinWithinDelayAsync(List<T> group)
        {
            var until = Stopwatch.GetTimestamp() + (long)(delay.TotalSeconds * Stopwatch.Frequency);
            while (group.Count < batchSize)
            {
                var left = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), until);
                if (left <= TimeSpan.Zero)
                    return;
                // a timer waits at most ~49 days: a longer window waits again for what is left
                using var window = new CancellationTokenSource(left < LongestWait ? left : LongestWait);
                var more = reader.WaitToReadAsync(window.Token).AsTask();
                // the window ending is no error: waited without throwing, then read as an outcome; a cancelled wait goes
                // round again, where the time left says whether the window ended or only this timer
                await ((Task)more).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                if (more.IsCanceled)
                    continue;
                if (!more.IsCompletedSuccessfully || !more.Result)
                    return;
                Take(group);
            }
        }

        private bool Take(List<T> group)
        {
            var took = false;
            while (group.Count < batchSize && reader.TryRead(out var item))
            {
                group.Add(item);
                took = true;
            }

            return took;
        }
    }
}
