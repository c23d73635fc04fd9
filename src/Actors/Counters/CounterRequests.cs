namespace Akka.WriteBehind.Counters;

/// <summary>
/// The request-id bookkeeping every counter store shares: which ids of a batch to record (the requests of the writes the
/// rows will apply, each (key, id) once), and the writes' deltas once the store has said which ids were new.
/// </summary>
public static class CounterRequests
{
    /// <summary>The table that holds the request ids of the counter table <paramref name="counterTable"/>.</summary>
    /// <param name="counterTable">The counter set's table, e.g. <c>counters</c>.</param>
    public static string TableOf(string counterTable) => counterTable + "_requests";

    /// <summary>
    /// The requests to record: those of every write that applies (its seq is above the row's applied_seq, counting the batch's
    /// earlier writes of the key), the first occurrence of each (key, id).
    /// </summary>
    /// <param name="writes">The batch, in (key, seq) order, one write per (key, seq).</param>
    /// <param name="appliedSeq">The rows' applied_seq before the batch (a key without a row: absent or 0).</param>
    public static IReadOnlyList<(string Key, CounterRequest Request)> ToRecord(IReadOnlyList<CounterWrite> writes, IReadOnlyDictionary<string, long> appliedSeq)
    {
        var result = new List<(string, CounterRequest)>();
        var seen = new HashSet<(string, string)>();
        foreach (var write in Applying(writes, appliedSeq))
            foreach (var request in write.Requests ?? [])
                if (seen.Add((write.Key, request.Id)))
                    result.Add((write.Key, request));
        return result;
    }

    /// <summary>
    /// The writes with the deltas to apply: every request id that was not newly recorded (the key had it already), and every
    /// later occurrence of one that was, is left out of its write's delta.
    /// </summary>
    /// <param name="writes">The batch, as given to <see cref="ToRecord"/>.</param>
    /// <param name="appliedSeq">As given to <see cref="ToRecord"/>.</param>
    /// <param name="recorded">The (key, id) pairs the store recorded now (new, or expired and renewed).</param>
    public static CounterWrite[] Adjust(IReadOnlyList<CounterWrite> writes, IReadOnlyDictionary<string, long> appliedSeq, IReadOnlySet<(string Key, string Id)> recorded)
    {
        var applying = new HashSet<CounterWrite>(Applying(writes, appliedSeq), ReferenceEqualityComparer.Instance);
        var counted = new HashSet<(string, string)>();
        var result = new CounterWrite[writes.Count];
        for (var i = 0; i < writes.Count; i++)
        {
            var write = writes[i];
            if (write.Requests is not { Count: > 0 } requests || !applying.Contains(write))
            {
                result[i] = write;
                continue;
            }

            Int128 delta = write.Delta;
            foreach (var request in requests)
                if (!recorded.Contains((write.Key, request.Id)) || !counted.Add((write.Key, request.Id)))
                    delta -= request.Delta; // a repeat: its first occurrence is counted already
            result[i] = write with { Delta = checked((long)delta) };
        }

        return result;
    }

    private static IEnumerable<CounterWrite> Applying(IReadOnlyList<CounterWrite> writes, IReadOnlyDictionary<string, long> appliedSeq)
    {
        var applied = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var write in writes)
        {
            if (!applied.TryGetValue(write.Key, out var seq))
                seq = appliedSeq.GetValueOrDefault(write.Key);
            if (write.Seq <= seq)
                continue;
            applied[write.Key] = write.Seq;
            yield return write;
        }
    }
}
