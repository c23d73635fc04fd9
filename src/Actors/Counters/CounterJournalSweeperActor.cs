using Akka.Actor;
using Akka.Event;

namespace Akka.WriteBehind.Counters;

/// <summary>
/// INTERNAL API
/// <para>
/// Journal durability: every <c>journal.sweep-interval</c> (and right after start) finds the counter keys whose journal
/// still holds events — increments acknowledged but perhaps not yet in the target, after a crash or a failed journal — and
/// wakes their entities through the ingest stage. A woken entity replays, skips what the row already holds, and flushes
/// the rest. Keys stopped cleanly leave no events behind, so the sweep touches only keys with work.
/// </para>
/// </summary>
internal sealed class CounterJournalSweeperActor : ReceiveActor, IWithTimers
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly IActorRef _ingest;
    private readonly CounterSettings _settings;
    private readonly JournalTable _table;
    private bool _sweeping;

    public CounterJournalSweeperActor(IActorRef ingest, CounterSettings settings, JournalTable table)
    {
        _ingest = ingest;
        _settings = settings;
        _table = table;

        Receive<Sweep>(_ =>
        {
            if (_sweeping)
                return; // one sweep at a time
            _sweeping = true;
            var prefix = CounterActor.PersistenceIdOf(_settings.TypeName, "");
            _table.PersistenceIdsWithEventsAsync(prefix, _settings.JournalSweepLimit)
                .PipeTo(Self, success: ids => new SweepResult(ids, null), failure: ex => new SweepResult([], ex));
        });
        Receive<SweepResult>(result =>
        {
            _sweeping = false;
            if (result.Error is not null)
            {
                _log.Warning(result.Error, "Journal sweep of counter set {0} failed; retrying at the next sweep", _settings.TypeName);
                return;
            }

            var prefixLength = CounterActor.PersistenceIdOf(_settings.TypeName, "").Length;
            foreach (var id in result.PersistenceIds)
                _ingest.Tell(new WakeCounter(id[prefixLength..]));
            if (result.PersistenceIds.Count > 0)
                _log.Info("Journal sweep woke {0} counters of {1} that hold journaled increments", result.PersistenceIds.Count, _settings.TypeName);
        });
        Receive<CounterRejected>(Refused);
    }

    public ITimerScheduler Timers { get; set; } = null!;

    // a woken entity does not answer; a refused wake (node saturated or stopping) is retried by the next sweep
    private void Refused(CounterRejected rejected) =>
        _log.Debug("Wake of counter [{0}] refused ({1}); the next sweep retries it", rejected.Key, rejected.Code);

    public static Props Props(IActorRef ingest, CounterSettings settings, JournalTable table) =>
        Akka.Actor.Props.Create(() => new CounterJournalSweeperActor(ingest, settings, table));

    protected override void PreStart()
    {
        Self.Tell(Sweep.Instance);
        Timers.StartPeriodicTimer(Sweep.Instance, Sweep.Instance, _settings.JournalSweepInterval);
    }

    private sealed record SweepResult(IReadOnlyList<string> PersistenceIds, Exception? Error);

    private sealed class Sweep
    {
        public static readonly Sweep Instance = new();

        private Sweep()
        {
        }
    }
}
