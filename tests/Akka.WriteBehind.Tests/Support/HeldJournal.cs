using System.Collections.Immutable;
using Akka.Actor;
using Akka.Persistence;
using Akka.Persistence.Journal;

namespace Akka.WriteBehind.Tests.Support;

/// <summary>
/// Failure injection and observation: an in-memory journal whose writes wait while a spec holds them, or fail while it
/// says so, and which records the persistence ids of every write call. All of it belongs to the journal actor of one actor
/// system, so specs running at once do not share it: a spec tells the actor (<see cref="Of"/>) <see cref="Hold"/>,
/// <see cref="Release"/> or <see cref="Fail"/>, and asks it <see cref="CountHeld"/> or <see cref="GetWrites"/>.
/// </summary>
public sealed class HeldJournal : MemoryJournal
{
    public const string PluginId = "akka.persistence.journal.held";

    public const string Hocon = """
        akka.persistence.journal.held {
          class = "Akka.WriteBehind.Tests.Support.HeldJournal, Akka.WriteBehind.Tests"
          plugin-dispatcher = "akka.actor.default-dispatcher"
        }
        akka.write-behind.counters.journal.plugin-id = "akka.persistence.journal.held"
        """;

    private readonly List<string[]> _writes = new(); // only on the journal actor's thread
    private volatile TaskCompletionSource _gate = Open();
    private volatile bool _failing;
    private int _held;

    /// <summary>The journal actor of <paramref name="system"/>.</summary>
    public static IActorRef Of(ActorSystem system) => Akka.Persistence.Persistence.Instance.Apply(system).JournalFor(PluginId);

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
            case Fail fail:
                _failing = fail.Failing;
                Sender.Tell(Done.Instance);
                return true;
            case CountHeld:
                Sender.Tell(Volatile.Read(ref _held));
                return true;
            case GetWrites:
                Sender.Tell(_writes.ToArray());
                return true;
            default:
                return base.ReceivePluginInternal(message);
        }
    }

    protected override async Task<IImmutableList<Exception?>> WriteMessagesAsync(IEnumerable<AtomicWrite> messages, CancellationToken cancellationToken)
    {
        var writes = messages.ToList();
        _writes.Add(writes.Select(w => w.PersistenceId).ToArray());
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

    /// <summary>Writes that go on from now fail while <paramref name="Failing"/> (answered <see cref="Done"/>).</summary>
    public sealed record Fail(bool Failing);

    /// <summary>How many write calls wait now (answered with an int).</summary>
    public sealed class CountHeld
    {
        public static readonly CountHeld Instance = new();
    }

    /// <summary>The persistence ids of each write call so far, in call order (answered with a string[][]).</summary>
    public sealed class GetWrites
    {
        public static readonly GetWrites Instance = new();
    }
}
