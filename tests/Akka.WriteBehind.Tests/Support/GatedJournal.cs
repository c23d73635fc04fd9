using System.Collections.Concurrent;
using System.Collections.Immutable;
using Akka.Persistence;
using Akka.Persistence.Journal;

namespace Akka.WriteBehind.Tests.Support;

/// <summary>
/// Failure injection and observation: an in-memory journal that records the persistence ids of every write call, and whose
/// writes wait while <see cref="Hold"/> is set (until <see cref="Release"/>) or fail while <see cref="Failing"/> is set.
/// </summary>
public sealed class GatedJournal : MemoryJournal
{
    private static TaskCompletionSource _gate = Open();
    private static volatile bool _failing;

    public const string Hocon = """
        akka.persistence.journal.gated {
          class = "Akka.WriteBehind.Tests.Support.GatedJournal, Akka.WriteBehind.Tests"
          plugin-dispatcher = "akka.actor.default-dispatcher"
        }
        """;

    /// <summary>The persistence ids of each write call, in call order.</summary>
    public static ConcurrentQueue<string[]> Writes { get; } = new();

    /// <summary>Write calls waiting at the gate.</summary>
    public static int Held => _held;

    private static int _held;

    public static bool Failing
    {
        get => _failing;
        set => _failing = value;
    }

    public static void Hold() => _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public static void Release() => _gate.TrySetResult();

    public static void Reset()
    {
        Release();
        _failing = false;
        Writes.Clear();
    }

    protected override async Task<IImmutableList<Exception?>> WriteMessagesAsync(IEnumerable<AtomicWrite> messages, CancellationToken cancellationToken)
    {
        var writes = messages.ToList();
        Writes.Enqueue(writes.Select(w => w.PersistenceId).ToArray());
        Interlocked.Increment(ref _held);
        try
        {
            await _gate.Task;
        }
        finally
        {
            Interlocked.Decrement(ref _held);
        }

        if (_failing)
            throw new InvalidOperationException("injected journal failure");
        return await base.WriteMessagesAsync(writes, cancellationToken);
    }

    private static TaskCompletionSource Open()
    {
        var open = new TaskCompletionSource();
        open.SetResult();
        return open;
    }
}
