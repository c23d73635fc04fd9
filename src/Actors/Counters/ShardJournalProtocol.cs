using System.Collections.Immutable;
using System.Text;
using Akka.Actor;
using Akka.Serialization;

namespace Akka.WriteBehind.Counters;

/// <summary>
/// INTERNAL API
/// <para>The shard log's event: the deltas of many keys of one shard, persisted together (group commit across keys).</para>
/// </summary>
internal sealed record ShardIncrements(ImmutableArray<KeyDelta> Deltas);

/// <summary>
/// INTERNAL API: one key's delta in a <see cref="ShardIncrements"/> event, with the request ids of the increments in it that
/// callers sent with one (empty when none): they travel with the delta until its row records them.
/// </summary>
internal readonly record struct KeyDelta(string Key, long Delta, ImmutableArray<RequestDelta> Requests = default);

/// <summary>INTERNAL API: one event's delta of one key, as handed to the key's entity after a replay.</summary>
internal readonly record struct JournaledDelta(long Seq, long Delta, ImmutableArray<RequestDelta> Requests = default);

/// <summary>
/// INTERNAL API
/// <para>A message for the shard log entity of <see cref="ShardId"/>, routed by the counter message extractor to that shard.
/// These never leave the node: a counter and its shard log live in the same shard.</para>
/// </summary>
internal interface IShardJournalMessage : INoSerializationVerificationNeeded
{
    string ShardId { get; }
}

/// <summary>INTERNAL API: counter → shard log: the counter joins the log; answered with <see cref="JournalAttached"/>.</summary>
/// <param name="ShardId">The counter's shard.</param>
/// <param name="CounterKey">The counter's key.</param>
/// <param name="AfterSeq">The counter already holds the key's events up to this sequence number.</param>
internal sealed record AttachToJournal(string ShardId, string CounterKey, long AfterSeq) : IShardJournalMessage;

/// <summary>INTERNAL API: starts a shard log (the sweep sends it so a log with events left replays).</summary>
internal sealed record WakeShardJournal(string ShardId) : IShardJournalMessage;

/// <summary>INTERNAL API: a shard log sends this to itself through the region so sharding sees it active while counters use it.</summary>
internal sealed record ShardJournalKeepAlive(string ShardId) : IShardJournalMessage;

/// <summary>INTERNAL API: shard log → counter: the replayed events of the counter's key above its <c>AfterSeq</c>, oldest first.</summary>
internal sealed record JournalAttached(long HighestSeq, ImmutableArray<JournaledDelta> Events) : INoSerializationVerificationNeeded;

/// <summary>INTERNAL API: counter → its shard log: persist this delta of <see cref="Key"/> with the next event.</summary>
internal sealed record JournalDelta(string Key, long Delta, ImmutableArray<RequestDelta> Requests = default) : INoSerializationVerificationNeeded;

/// <summary>INTERNAL API: shard log → counter: the delta is in the log, in the event <see cref="Seq"/>.</summary>
internal sealed record DeltaJournaled(long Seq, long Delta) : INoSerializationVerificationNeeded;

/// <summary>INTERNAL API: shard log → counter: the journal refused the event; the delta is not in the log.</summary>
internal sealed record DeltaRejected(string Reason) : INoSerializationVerificationNeeded;

/// <summary>INTERNAL API: counter → its shard log: the row of <see cref="Key"/> holds every event of the key up to <see cref="UpToSeq"/>.</summary>
internal sealed record KeyStored(string Key, long UpToSeq) : INoSerializationVerificationNeeded;

/// <summary>
/// INTERNAL API
/// <para>
/// Binary serializer of <see cref="ShardIncrements"/>, so the journal does not depend on CLR type names: the number of deltas,
/// then per delta the key's UTF-8 length and bytes and the delta, all as LEB128 varints (the delta zigzag-encoded), so a small
/// delta of a short key takes a few bytes (manifest "sd"). An event where some delta carries request ids (manifest "sr") adds
/// after each delta the number of its requests and, per request, the id's length and bytes and its delta.
/// </para>
/// </summary>
internal sealed class CounterEventSerializer : SerializerWithStringManifest
{
    private const string ShardIncrementsManifest = "sd";
    private const string ShardIncrementsWithRequestsManifest = "sr";

    public CounterEventSerializer(ExtendedActorSystem system) : base(system)
    {
    }

    public override int Identifier => 4_801_201;

    public override byte[] ToBinary(object obj) => obj switch
    {
        ShardIncrements e => Write(e),
        _ => throw new ArgumentException($"Cannot serialize {obj.GetType()}", nameof(obj)),
    };

    public override object FromBinary(byte[] bytes, string manifest) => manifest switch
    {
        ShardIncrementsManifest => Read(bytes, withRequests: false),
        ShardIncrementsWithRequestsManifest => Read(bytes, withRequests: true),
        _ => throw new System.Runtime.Serialization.SerializationException($"Unknown manifest [{manifest}] for counter events"),
    };

    public override string Manifest(object o) => o switch
    {
        ShardIncrements e => HasRequests(e) ? ShardIncrementsWithRequestsManifest : ShardIncrementsManifest,
        _ => throw new ArgumentException($"Cannot serialize {o.GetType()}", nameof(o)),
    };

    private static bool HasRequests(ShardIncrements e)
    {
        foreach (var d in e.Deltas)
            if (!d.Requests.IsDefaultOrEmpty)
                return true;
        return false;
    }

    private static byte[] Write(ShardIncrements e)
    {
        // sized exactly first: a buffer of the largest possible size and a copy of its used part cost twice the event's bytes
        var withRequests = HasRequests(e);
        var size = VarintSize((ulong)e.Deltas.Length);
        foreach (var d in e.Deltas)
        {
            size += StringSize(d.Key) + VarintSize(ZigZag(d.Delta));
            if (!withRequests)
                continue;
            var requests = d.Requests.IsDefault ? ImmutableArray<RequestDelta>.Empty : d.Requests;
            size += VarintSize((ulong)requests.Length);
            foreach (var r in requests)
                size += StringSize(r.Id) + VarintSize(ZigZag(r.Delta));
        }

        var buffer = new byte[size];
        var at = WriteVarint(buffer, 0, (ulong)e.Deltas.Length);
        foreach (var d in e.Deltas)
        {
            at = WriteString(buffer, at, d.Key);
            at = WriteVarint(buffer, at, ZigZag(d.Delta));
            if (!withRequests)
                continue;
            var requests = d.Requests.IsDefault ? ImmutableArray<RequestDelta>.Empty : d.Requests;
            at = WriteVarint(buffer, at, (ulong)requests.Length);
            foreach (var r in requests)
            {
                at = WriteString(buffer, at, r.Id);
                at = WriteVarint(buffer, at, ZigZag(r.Delta));
            }
        }

        return at == size ? buffer : throw new InvalidOperationException($"counter event sized {size} bytes but wrote {at}");
    }

    private static ShardIncrements Read(byte[] bytes, bool withRequests)
    {
        var at = 0;
        var count = checked((int)ReadVarint(bytes, ref at));
        var deltas = ImmutableArray.CreateBuilder<KeyDelta>(count);
        for (var i = 0; i < count; i++)
        {
            var key = ReadString(bytes, ref at);
            var delta = UnZigZag(ReadVarint(bytes, ref at));
            var requests = ImmutableArray<RequestDelta>.Empty;
            if (withRequests && checked((int)ReadVarint(bytes, ref at)) is var n and > 0)
            {
                var builder = ImmutableArray.CreateBuilder<RequestDelta>(n);
                for (var j = 0; j < n; j++)
                    builder.Add(new RequestDelta(ReadString(bytes, ref at), UnZigZag(ReadVarint(bytes, ref at))));
                requests = builder.MoveToImmutable();
            }

            deltas.Add(new KeyDelta(key, delta, requests));
        }

        return new ShardIncrements(deltas.MoveToImmutable());
    }

    private static ulong ZigZag(long value) => (ulong)((value << 1) ^ (value >> 63));

    private static long UnZigZag(ulong zigzag) => (long)(zigzag >> 1) ^ -(long)(zigzag & 1);

    private static int StringSize(string text)
    {
        var length = Encoding.UTF8.GetByteCount(text);
        return VarintSize((ulong)length) + length;
    }

    private static int WriteString(byte[] buffer, int at, string text)
    {
        at = WriteVarint(buffer, at, (ulong)Encoding.UTF8.GetByteCount(text));
        return at + Encoding.UTF8.GetBytes(text, 0, text.Length, buffer, at);
    }

    private static int VarintSize(ulong value)
    {
        var size = 1;
        while (value >= 0x80)
        {
            value >>= 7;
            size++;
        }

        return size;
    }

    private static string ReadString(byte[] bytes, ref int at)
    {
        var length = checked((int)ReadVarint(bytes, ref at));
        if (length > bytes.Length - at)
            throw new System.Runtime.Serialization.SerializationException("truncated counter event");
        var text = Encoding.UTF8.GetString(bytes, at, length);
        at += length;
        return text;
    }

    private static int WriteVarint(byte[] buffer, int at, ulong value)
    {
        while (value >= 0x80)
        {
            buffer[at++] = (byte)(value | 0x80);
            value >>= 7;
        }

        buffer[at++] = (byte)value;
        return at;
    }

    private static ulong ReadVarint(byte[] bytes, ref int at)
    {
        ulong value = 0;
        for (var shift = 0; shift < 70; shift += 7)
        {
            if (at >= bytes.Length)
                throw new System.Runtime.Serialization.SerializationException("truncated counter event");
            var b = bytes[at++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
                return value;
        }

        throw new System.Runtime.Serialization.SerializationException("malformed varint in counter event");
    }
}

/// <summary>
/// INTERNAL API: shard log → the node's journal writer: write <see cref="Event"/> as event <see cref="Seq"/> of
/// <see cref="PersistenceId"/>; answered with <see cref="ShardEventWritten"/>, <see cref="ShardEventRejected"/> or
/// <see cref="ShardEventFailed"/>. A log has at most one such write outstanding.
/// </summary>
internal sealed record WriteShardEvent(string PersistenceId, long Seq, ShardIncrements Event, string WriterGuid) : INoSerializationVerificationNeeded;

/// <summary>INTERNAL API: journal writer → shard log: event <see cref="Seq"/> is in the journal.</summary>
internal sealed record ShardEventWritten(long Seq) : INoSerializationVerificationNeeded;

/// <summary>INTERNAL API: journal writer → shard log: the journal refused event <see cref="Seq"/> (it was not written).</summary>
internal sealed record ShardEventRejected(long Seq, Exception Cause) : INoSerializationVerificationNeeded;

/// <summary>INTERNAL API: journal writer → shard log: writing event <see cref="Seq"/> failed; it may or may not be in the journal.</summary>
internal sealed record ShardEventFailed(long Seq, Exception Cause) : INoSerializationVerificationNeeded;

/// <summary>
/// INTERNAL API: shard log → the node's journal writer: delete the events of <see cref="PersistenceId"/> up to
/// <see cref="ToSeq"/> once nothing else is in flight on the journal; answered with the journal's
/// <see cref="Akka.Persistence.DeleteMessagesSuccess"/> or <see cref="Akka.Persistence.DeleteMessagesFailure"/>.
/// A log has at most one such trim outstanding.
/// </summary>
internal sealed record TrimShardLog(string PersistenceId, long ToSeq) : INoSerializationVerificationNeeded;

/// <summary>
/// INTERNAL API: counter → its shard log: route the fast-path aggregates of <see cref="Key"/> from <see cref="Ingest"/> (this
/// node's ingest stage) through the log, which persists them and leaves their deltas in the counter's <see cref="Inbox"/>
/// afterwards. <see cref="Magnitude"/> bounds the counter's numbers (|stored| + |unstored|), from
/// which the log keeps them within 64 bits. Answered with <see cref="RouteOpened"/> to the ingest stage, or
/// <see cref="CounterRouteClosed"/> to the counter when the log does not open it.
/// </summary>
internal sealed record OfferRoute(string Key, IActorRef Ingest, long RouteId, long Magnitude, CounterRouteInbox Inbox)
    : INoSerializationVerificationNeeded;

/// <summary>INTERNAL API: counter → its shard log: close the route <see cref="RouteId"/> (answered with <see cref="CounterRouteClosed"/>).</summary>
internal sealed record CloseRoute(string Key, long RouteId) : INoSerializationVerificationNeeded;

/// <summary>
/// INTERNAL API: shard log → counter: the route <see cref="RouteId"/> is closed (or was never opened), and every delta routed
/// through it has been handed to the counter before this message.
/// </summary>
internal sealed record CounterRouteClosed(string Key, long RouteId) : INoSerializationVerificationNeeded;

/// <summary>
/// INTERNAL API: shard log (the sender) → ingest stage: send the aggregates of <see cref="Key"/> to this log, each with
/// <see cref="Route"/>, the log's own record of the route, which the stage hands back without reading it (node-local).
/// </summary>
internal sealed record RouteOpened(string Key, object? Route = null) : INoSerializationVerificationNeeded;

/// <summary>INTERNAL API: shard log (the sender) → ingest stage: send the aggregates of <see cref="Key"/> to its entity again.</summary>
internal sealed record RouteClosed(string Key) : INoSerializationVerificationNeeded;

/// <summary>
/// INTERNAL API: ingest stage → a shard log: the aggregates of routed keys from one drain (the sums of
/// <see cref="Increments"/> increments each), answered once with <see cref="RoutedAnswers"/> in the same order.
/// <see cref="Routes"/> holds, per key, the log's record of the route the key was sent through
/// (<see cref="RouteOpened.Route"/>), or is <c>null</c>.
/// </summary>
internal sealed record RoutedIncrements(long BatchId, string[] Keys, long[] Deltas, long[] Increments) : INoSerializationVerificationNeeded
{
    public object?[]? Routes { get; init; }
}

/// <summary>
/// INTERNAL API: shard log → ingest stage: the aggregates of <see cref="RoutedIncrements"/> <see cref="BatchId"/> are in the
/// event the log is writing now; what the stage sends from here on goes into the event after it.
/// </summary>
internal sealed record RoutedPersisting(long BatchId) : INoSerializationVerificationNeeded;

/// <summary>INTERNAL API: shard log → ingest stage: the outcome of each aggregate of <see cref="RoutedIncrements"/> <see cref="BatchId"/>.</summary>
internal sealed record RoutedAnswers(long BatchId, RoutedOutcome[] Outcomes) : INoSerializationVerificationNeeded;

/// <summary>INTERNAL API: what a shard log did with one routed aggregate.</summary>
internal readonly record struct RoutedOutcome(RoutedOutcomeKind Kind, ErrorCode Code = default, string? Message = null)
{
    public static readonly RoutedOutcome Accepted = new(RoutedOutcomeKind.Accepted);

    public static readonly RoutedOutcome NotRouted = new(RoutedOutcomeKind.NotRouted);
}

/// <summary>INTERNAL API: the kinds of <see cref="RoutedOutcome"/>.</summary>
internal enum RoutedOutcomeKind
{
    /// <summary>Taken, its persist not answered yet (never sent to the ingest stage).</summary>
    Waiting,

    /// <summary>In the log: the ingest stage acknowledges its increments.</summary>
    Accepted,

    /// <summary>Refused with <see cref="RoutedOutcome.Code"/>: not in the log.</summary>
    Refused,

    /// <summary>The key has no route through this log (any more): the ingest stage sends the aggregate to its entity.</summary>
    NotRouted,
}

/// <summary>
/// INTERNAL API: shard log → counter: increments of its key that the counter did not send itself (<see cref="Increments"/>
/// of them, summing <see cref="Delta"/>, with the request ids of <see cref="Requests"/>) are in the log, in the event
/// <see cref="Seq"/>: routed increments, acknowledged, or the delta of the key's counter before, which stopped before its
/// persist was answered.
/// </summary>
internal sealed record RoutedDeltaJournaled(long Seq, long Delta, long Increments, ImmutableArray<RequestDelta> Requests = default)
    : INoSerializationVerificationNeeded
{
    /// <summary><see cref="System.Diagnostics.Stopwatch"/> timestamp of the oldest increment in it (0: now).</summary>
    public long Since { get; init; }

    /// <summary>Routed increments: the ingest stage counted them in the increments metric when it acknowledged them.</summary>
    public bool Counted { get; init; }
}

/// <summary>INTERNAL API: shard log → counter: its route's <see cref="CounterRouteInbox"/> was empty and holds a delta now.</summary>
internal sealed class RoutedInboxFilled : INoSerializationVerificationNeeded
{
    public static readonly RoutedInboxFilled Instance = new();

    private RoutedInboxFilled()
    {
    }
}
