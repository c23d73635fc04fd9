namespace Akka.WriteBehind.Counters;

/// <summary>INTERNAL API: an entity asks the node's store writer to apply one write; the reply is <see cref="CounterWritten"/> or <see cref="CounterWriteFailed"/>.</summary>
internal sealed record WriteCounter(CounterWrite Write);

/// <summary>INTERNAL API: the write <see cref="Seq"/> of <see cref="Key"/> is committed; <see cref="Stored"/> is the row after the transaction.</summary>
internal sealed record CounterWritten(string Key, long Seq, StoredCounter Stored);

/// <summary>INTERNAL API: the write <see cref="Seq"/> of <see cref="Key"/> was not committed (or its outcome is unknown).</summary>
internal sealed record CounterWriteFailed(string Key, long Seq, string Reason);

/// <summary>INTERNAL API: an entity asks for its stored row; the reply is <see cref="CounterLoaded"/> or <see cref="CounterLoadFailed"/>.</summary>
internal sealed record LoadCounter(string Key);

/// <summary>INTERNAL API: the stored row of <see cref="Key"/>.</summary>
internal sealed record CounterLoaded(string Key, StoredCounter Stored);

/// <summary>INTERNAL API: the row of <see cref="Key"/> could not be read.</summary>
internal sealed record CounterLoadFailed(string Key, string Reason);
