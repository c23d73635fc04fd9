using System.Collections.Immutable;
using Akka.Persistence;
using Akka.Persistence.Journal;

namespace Akka.WriteBehind.Tests.Support;

/// <summary>Failure injection: an in-memory journal whose writes fail while <see cref="Failing"/> is set.</summary>
public sealed class FlakyJournal : MemoryJournal
{
    private static volatile bool _failing;

    public static bool Failing
    {
        get => _failing;
        set => _failing = value;
    }

    public const string Hocon = """
        akka.persistence.journal.flaky {
          class = "Akka.WriteBehind.Tests.Support.FlakyJournal, Akka.WriteBehind.Tests"
          plugin-dispatcher = "akka.actor.default-dispatcher"
        }
        akka.write-behind.counters.journal.plugin-id = "akka.persistence.journal.flaky"
        """;

    protected override Task<IImmutableList<Exception?>> WriteMessagesAsync(IEnumerable<AtomicWrite> messages, CancellationToken cancellationToken)
    {
        if (_failing)
            throw new InvalidOperationException("injected journal failure");
        return base.WriteMessagesAsync(messages, cancellationToken);
    }
}
