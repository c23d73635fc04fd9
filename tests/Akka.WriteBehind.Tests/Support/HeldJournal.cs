using System.Collections.Immutable;
using Akka.Actor;
using Akka.Persistence;
using Akka.Persistence.Journal;

namespace Akka.WriteBehind.Tests.Support;

/// <summary>
/// Failure injection: an in-memory journal whose writes wait while a spec holds them. Unlike <see cref="GatedJournal"/> its
/// gate belongs to the journal actor of one actor system: the spec tells it <see cref="Hold"/> and <see cref="Release"/>,
/// and asks it <see cref="CountHeld"/>.
/// </summary>
public sealed class HeldJournal : MemoryJournal
{
    public const string Hocon = """
        akka.persistence.journal.held {
          class = "Akka.WriteBehind.Tests.Support.HeldJournal, Akka.WriteBehind.Tests"
          plugin-dispatcher = "akka.actor.default-dispatcher"
        }
        akka.write-behind.counters.journal.plugin-id = "akka.persistence.journal.held"
        """;

    private volatile TaskCompletionSource _gate = Open();
    private int _held;

    /// <summary>The journal actor of <paramref name="system"/>.</summary>
    public static IActorRef Of(ActorSystem system) => Akka.Persistence.Persistence.Instance.Apply(system).JournalFor("akka.persistence.journal.held");

    protected override bool ReceivePluginInternal(object message)
    {
        switch (message)
        {
            case Hold:
                _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                Sender.Tell(Done.Instance);
                return true;
            case Release:
                _gate.TrySetResult();
                Sender.Tell(Done.Instance);
                return true;
            case CountHeld:
                Sender.Tell(Volatile.Read(ref _held));
                return true;
            default:
                return base.ReceivePluginInternal(message);
        }
    }

    protected override async Task<IImmutableList<Exception?>> WriteMessagesAsync(IEnumerable<AtomicWrite> messages, CancellationToken cancellationToken)
    {
        var writes = messages.ToList();
        var gate = _gate.Task;
        Interlocked.Increment(ref _held);
        try
        {
            await gate;
        }
        finally
        {
            Interlocked.Decrement(ref _held);
        }

        return await base.WriteMessagesAsync(writes, cancellationToken);
    }

    private static TaskCompletionSource Open()
    {
        var open = new TaskCompletionSource();
        open.SetResult();
        return open;
    }

    /// <summary>Writes from now on wait (answered <see cref="Done"/>).</summary>
    public sealed class Hold
    {
        public static readonly Hold Instance = new();
    }

    /// <summary>The writes waiting go on, and so do later ones (answered <see cref="Done"/>).</summary>
    public sealed class Release
    {
        public static readonly Release Instance = new();
    }

    /// <summary>How many write calls wait now (answered with an int).</summary>
    public sealed class CountHeld
    {
        public static readonly CountHeld Instance = new();
    }
}
