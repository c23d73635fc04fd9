using System.Collections.Immutable;

namespace Akka.WriteBehind.Counters;

/// <summary>The outcome of <see cref="CounterSet.FlushAllAsync"/>: <see cref="AllCountersFlushed"/> or <see cref="FlushAllFailed"/>.</summary>
public interface IFlushAllReply
{
}

/// <summary>Every increment of the set acknowledged (or buffered in a fast path) before the flush-all is stored.</summary>
/// <param name="Keys">Keys that held pending increments and were flushed, over all nodes.</param>
/// <param name="Nodes">Cluster members that flushed their keys.</param>
public sealed record AllCountersFlushed(long Keys, int Nodes) : IFlushAllReply;

/// <summary>
/// The flush-all did not complete: <see cref="ErrorCode.StoreFailure"/> (a write failed; the deltas are kept and retried),
/// <see cref="ErrorCode.Timeout"/> (a node or key did not answer in time), <see cref="ErrorCode.Saturated"/> or
/// <see cref="ErrorCode.ShuttingDown"/>. Nothing is lost; what was not stored yet is written by later flushes.
/// </summary>
/// <param name="Code">Why, as a code to switch on.</param>
/// <param name="Message">Why, for people (names the node and an example key).</param>
public sealed record FlushAllFailed(ErrorCode Code, string Message) : IFlushAllReply;

/// <summary>INTERNAL API: asks the node's flush-all actor to flush the set on every member, within <see cref="Timeout"/>.</summary>
internal sealed record FlushAllCounters(TimeSpan Timeout);

/// <summary>INTERNAL API: asks a member's flush-all actor to flush every pending key of its node; <see cref="Node"/> is echoed back.</summary>
internal sealed record FlushNodeCounters(string Node, TimeSpan Timeout);

/// <summary>INTERNAL API: the member <see cref="Node"/> flushed <see cref="Keys"/> keys.</summary>
internal sealed record NodeCountersFlushed(string Node, long Keys);

/// <summary>INTERNAL API: the member <see cref="Node"/> could not flush all its keys.</summary>
internal sealed record NodeCountersFlushFailed(string Node, ErrorCode Code, string Message);

/// <summary>INTERNAL API: asks the ingest stage which keys it holds work for (fast-path aggregates, queues, in flight).</summary>
internal sealed class ListIngestKeys
{
    public static readonly ListIngestKeys Instance = new();

    private ListIngestKeys()
    {
    }
}

/// <summary>INTERNAL API: the keys the ingest stage holds work for, answering <see cref="ListIngestKeys"/>.</summary>
internal sealed record IngestKeys(ImmutableArray<string> Keys);

/// <summary>INTERNAL API: asks a shard log which keys have events whose deltas their rows may not hold yet.</summary>
internal sealed class ListUnstoredKeys
{
    public static readonly ListUnstoredKeys Instance = new();

    private ListUnstoredKeys()
    {
    }
}

/// <summary>INTERNAL API: a shard log's keys with events not known stored, answering <see cref="ListUnstoredKeys"/>.</summary>
internal sealed record UnstoredKeys(ImmutableArray<string> Keys);
