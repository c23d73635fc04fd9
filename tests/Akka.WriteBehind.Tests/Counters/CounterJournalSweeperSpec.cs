using Akka.Configuration;
using Akka.WriteBehind.Counters;
using Akka.WriteBehind.Internal;
using Akka.WriteBehind.Tests.Support;
using Microsoft.Data.Sqlite;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Counters;

/// <summary>
/// The journal sweep on virtual time, over a real SQLite journal file and a probe for the shard region: it sweeps once at
/// start and then every <c>journal.sweep-interval</c>, waking each shard log that still holds events.
/// </summary>
public sealed class CounterJournalSweeperSpec(ITestOutputHelper output) : VirtualTimeSpecBase("akka.loglevel = INFO", output)
{
    private static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);
    private readonly TempDirectory _dir = new();

    [Fact]
    public async Task Should_wake_the_shard_logs_holding_events_at_start_and_again_each_sweep_interval_not_before()
    {
        var prefix = ShardJournalActor.PersistenceIdPrefix(Settings.TypeName);
        await AddEventsAsync((prefix + "3", false), (prefix + "7", true), ("other|shard-1", false));
        var table = Table();
        var region = CreateTestProbe();

        Sys.ActorOf(CounterJournalSweeperActor.Props(region.Ref, Settings, table, new FailureStreak()));
        Assert.Equal(new WakeShardJournal("3"), await region.ExpectMsgAsync<WakeShardJournal>(Timeout)); // the sweep at start
        await region.ExpectNoMsgAsync(Quiet); // deleted events and other sets' logs are not woken

        Advance(Interval - Step);
        await region.ExpectNoMsgAsync(Quiet);

        Advance(Step);
        Assert.Equal(new WakeShardJournal("3"), await region.ExpectMsgAsync<WakeShardJournal>(Timeout));
    }

    [Fact]
    public async Task Should_log_failing_sweeps_once_and_once_when_the_journal_answers_again()
    {
        var failures = new FailureStreak();
        var region = CreateTestProbe();

        // a journal table the sweep cannot read (no deleted column): every sweep fails, and only the first says so at
        // warning level
        await ExecuteAsync("CREATE TABLE journal (persistence_id TEXT NOT NULL)");
        await EventFilter.Warning(contains: "Journal sweep").ExpectAsync(1, async () =>
        {
            Sys.ActorOf(CounterJournalSweeperActor.Props(region.Ref, Settings, Table(), failures));
            await AwaitConditionAsync(() => Task.FromResult(failures.Failures == 1), Timeout);
            Advance(Interval);
            await AwaitConditionAsync(() => Task.FromResult(failures.Failures == 2), Timeout);
        }, Timeout);

        await ExecuteAsync("ALTER TABLE journal ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0");
        await AddEventsAsync((ShardJournalActor.PersistenceIdPrefix(Settings.TypeName) + "3", false));
        await EventFilter.Info(contains: "journal answers again after 2 failed calls").ExpectAsync(1, async () =>
        {
            Advance(Interval);
            Assert.Equal(new WakeShardJournal("3"), await region.ExpectMsgAsync<WakeShardJournal>(Timeout));
        }, Timeout);
        Assert.Equal(0, failures.Failures);
    }

    protected override void AfterAll()
    {
        base.AfterAll();
        _dir.Dispose();
    }

    private static CounterSettings Settings { get; } = CounterSettings.FromConfig(
        ConfigurationFactory.ParseString($"journal.sweep-interval = {Interval.TotalSeconds}s")
            .WithFallback(WriteBehindConfig.DefaultConfig().GetConfig(CounterSettings.ConfigPath)));

    private string ConnectionString => $"Data Source={_dir.DatabaseFile}";

    /// <summary>
    /// Adds the given events to the journal file, creating its table (the plugin's name and the two columns the sweep reads)
    /// if it is missing.
    /// </summary>
    private async Task AddEventsAsync(params (string PersistenceId, bool Deleted)[] events)
    {
        await ExecuteAsync("CREATE TABLE IF NOT EXISTS journal (persistence_id TEXT NOT NULL, deleted INTEGER NOT NULL)");
        foreach (var (id, deleted) in events)
            await ExecuteAsync($"INSERT INTO journal VALUES ('{id}', {(deleted ? 1 : 0)})");
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = new SqliteConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>The sweep's view of the journal file (which need not hold the table yet).</summary>
    private JournalTable Table()
    {
        var config = ConfigurationFactory.ParseString($$"""
            journal-plugin {
              class = "Akka.Persistence.Sql.Journal.SqlWriteJournal, Akka.Persistence.Sql"
              provider-name = "SQLite.MS"
              connection-string = "{{ConnectionString}}"
            }
            """);
        return JournalTable.TryFromConfig(config, "journal-plugin", out var why) ?? throw new InvalidOperationException(why);
    }
}
