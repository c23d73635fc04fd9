namespace Akka.WriteBehind;

/// <summary>
/// A feature's node-local store writer, read from its <c>store-writer</c> section (the same keys in every feature): writes
/// queue up to <see cref="BufferSize"/>, are grouped by <see cref="BatchSize"/> or <see cref="BatchDelay"/>, and
/// <see cref="Parallelism"/> groups go to the store at once, each in one transaction.
/// </summary>
/// <param name="BatchSize">Most writes in one store transaction (<c>store-writer.batch-size</c>). <b>Default</b>: 500.</param>
/// <param name="BatchDelay">Longest a write that finds a writer slot free waits for others to join its group; writes that queued while every slot was busy go as soon as one is free (<c>store-writer.batch-delay</c>). <b>Default</b>: 10ms (counters), 5ms (refresh).</param>
/// <param name="Parallelism">Groups written to the store at the same time (<c>store-writer.parallelism</c>). <b>Default</b>: 2.</param>
/// <param name="BufferSize">Writes queued at most; beyond, a write is refused at once and retried (<c>store-writer.buffer-size</c>). <b>Default</b>: 100,000 (counters), 10,000 (refresh).</param>
/// <param name="WriteTimeout">Time after which a write with no answer counts as failed and is retried (<c>store-writer.write-timeout</c>). <b>Default</b>: 30s.</param>
public sealed record StoreWriterSettings(int BatchSize, TimeSpan BatchDelay, int Parallelism, int BufferSize, TimeSpan WriteTimeout)
{
    /// <summary>The name of the section inside a feature's settings.</summary>
    public const string Section = "store-writer";

    /// <summary>HOCON keys of the section, relative to the feature's section.</summary>
    internal static class Keys
    {
        public const string BatchSize = Section + ".batch-size";
        public const string BatchDelay = Section + ".batch-delay";
        public const string Parallelism = Section + ".parallelism";
        public const string BufferSize = Section + ".buffer-size";
        public const string WriteTimeout = Section + ".write-timeout";
    }
}
