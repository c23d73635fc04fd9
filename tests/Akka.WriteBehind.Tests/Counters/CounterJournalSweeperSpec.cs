using Akka.Configuration;
using Akka.WriteBehind.Counters;
using Akka.WriteBehind.Tests.Support;
using Microsoft.Data.Sqlite;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Counters;

/// <summary>
/// The journal sweep on virtual time, over a real SQLite journal file and a probe for the shard region: it sweeps once at
/// start and then every <c>journal.sweep-interval</c>, waking each shard log that still holds events.
/// </summary>
public sealed class CounterJournalSweeperSpec(ITestOutputHelper output) : VirtualTimeSpecBase("", output)
{
    private static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);
    private readonly TempDirectory _dir = new();

    [Fact]
    public async Task Should_wake_the_shard_logs_holding_events_at_start_and_again_each_sweep_interval_not_before()
    {
        var settings = CounterSettings.FromConfig(ConfigurationFactory.ParseString($"journal.sweep-interval = {Interval.TotalSeconds}s")
            .WithFallback(WriteBehindConfig.DefaultConfig().GetConfig(CounterSettings.ConfigPath)));
        var prefix = ShardJournalActor.PersistenceIdPrefix(settings.TypeName);
        var table = await JournalWithEventsAsync((prefix + "3", false), (prefix + "7", true), ("other|shard-1", false));
        var region = CreateTestProbe();

        Sys.ActorOf(CounterJournalSweeperActor.Props(region.Ref, settings, table));
        Assert.Equal(new WakeShardJournal("3"), await region.ExpectMsgAsync<WakeShardJournal>(Timeout)); // the sweep at start
        await region.ExpectNoMsgAsync(Quiet); // deleted events and other sets' logs are not woken

        Advance(Interval - Step);
        await region.ExpectNoMsgAsync(Quiet);

        Advance(Step);
        Assert.Equal(new WakeShardJournal("3"), await region.ExpectMsgAsync<WakeShardJournal>(Timeout));
    }

    protected override void AfterAll()
    {
        base.AfterAll();
        _dir.Dispose();
    }

    /// <summary>A journal file with the plugin's table name and the two columns the sweep reads, holding the given events.</summary>
    private async Task<JournalTable> JournalWithEventsAsync(params (string PersistenceId, bool Deleted)[] events)
    {
        var connectionString = $"Data Source={_dir.DatabaseFile}";
        await using (var connection = new SqliteConnection(connectionString))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "CREATE TABLE journal (persistence_id TEXT NOT NULL, deleted INTEGER NOT NULL)";
            await command.ExecuteNonQueryAsync();
            foreach (var (id, deleted) in events)
            {
                command.CommandText = $"INSERT INTO journal VALUES ('{id}', {(deleted ? 1 : 0)})";
                await command.ExecuteNonQueryAsync();
            }
        }

        var config = ConfigurationFactory.ParseString($$"""
            journal-plugin {
              class = "Akka.Persistence.Sql.Journal.SqlWriteJournal, Akka.Persistence.Sql"
              provider-name = "SQLite.MS"
              connection-string = "{{connectionString}}"
            }
            """);
        return JournalTable.TryFromConfig(config, "journal-plugin", out var why) ?? throw new InvalidOperationException(why);
    }
}
