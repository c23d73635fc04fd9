using Akka.Actor;
using Akka.Event;
using Akka.WriteBehind.Internal;

namespace Akka.WriteBehind.Counters;

/// <summary>
/// INTERNAL API
/// <para>
/// Journal durability: every <c>journal.sweep-interval</c> (and right after start) finds the shard logs that still hold
/// events — increments acknowledged but perhaps not yet in the target, after a crash — and wakes them through the shard
/// region. A woken log replays once and wakes the keys it names; each counter keeps what its row does not hold and writes
/// it. Shards stopped cleanly leave no events behind, so the sweep touches only shards with work.
/// </para>
/// </summary>
internal sealed class CounterJournalSweeperActor : UntypedActor, IWithTimers
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly IActorRef _region;
    private readonly CounterSettings _settings;
    private readonly JournalTable _table;
    private readonly FailureStreak _failures;

    public CounterJournalSweeperActor(IActorRef region, CounterSettings settings, JournalTable table, FailureStreak failures)
    {
        _region = region;
        _settings = settings;
        _table = table;
        _failures = failures;
    }

    public ITimerScheduler Timers { get; set; } = null!;

    /// <param name="region">The set's shard region, which starts the woken shard logs.</param>
    /// <param name="settings">The set's settings.</param>
    /// <param name="table">The journal table the sweep reads.</param>
    /// <param name="failures">The set's journal failures on this node, which its shard logs and journal writer count too.</param>
    public static Props Props(IActorRef region, CounterSettings settings, JournalTable table, FailureStreak failures) =>
        Akka.Actor.Props.Create(() => new CounterJournalSweeperActor(region, settings, table, failures));

    protected override void PreStart()
    {
        Self.Tell(Sweep.Instance);
        Timers.StartPeriodicTimer(Sweep.Instance, Sweep.Instance, _settings.Journal.SweepInterval);
    }

    protected override void OnReceive(object message) => Idle(message);

    /// <summary>No sweep in flight: a <see cref="Sweep"/> starts one.</summary>
    private void Idle(object message)
    {
        switch (message)
        {
            case Sweep:
                var prefix = ShardJournalActor.PersistenceIdPrefix(_settings.TypeName);
                _table.PersistenceIdsWithEventsAsync(prefix, _settings.Journal.SweepLimit)
                    .PipeTo(Self, success: ids => new SweepResult(ids, null), failure: ex => new SweepResult([], ex));
                Become(Sweeping);
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    /// <summary>One sweep at a time: a tick that comes while the table is read is dropped, the next one sweeps.</summary>
    private void Sweeping(object message)
    {
        switch (message)
        {
            case Sweep:
                break;
            case SweepResult result:
                Become(Idle);
                WakeShardLogs(result);
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    private void WakeShardLogs(SweepResult result)
    {
        if (result.Error is not null)
        {
            // a sweep in an outage fails as the shard logs do: logged in full only if it is the outage's first failure
            if (_failures.Failed())
                _log.Warning(result.Error, "Journal sweep of counter set {0} failed; retrying at the next sweep", _settings.TypeName);
            else
                _log.Debug("Journal sweep of counter set {0} failed: {1}: {2}", _settings.TypeName, result.Error.GetType().Name, result.Error.Message);
            return;
        }

        _failures.Succeeded(_log, "The shard-log journal");

        var prefixLength = ShardJournalActor.PersistenceIdPrefix(_settings.TypeName).Length;
        foreach (var id in result.PersistenceIds)
            _region.Tell(new WakeShardJournal(id[prefixLength..]));
        if (result.PersistenceIds.Count > 0)
            _log.Info("Journal sweep woke {0} shard logs of {1} that hold events", result.PersistenceIds.Count, _settings.TypeName);
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
