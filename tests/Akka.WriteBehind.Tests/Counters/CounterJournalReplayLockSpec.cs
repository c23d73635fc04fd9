using Akka.Actor;
using Akka.WriteBehind.Counters;
using Akka.WriteBehind.Tests.Support;
using Microsoft.Data.Sqlite;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Counters;

/// <summary>
/// A shard log's replay on SQLite only reads: it does not take the journal file's write lock, so it never waits for (or
/// collides with) the journal's writer.
/// </summary>
public sealed class CounterJournalReplayLockSpec(ITestOutputHelper output)
    : CounterSpecBase(output, Journal.Durable + "\nakka.write-behind.counters { flush-interval = 1h, journal.trim-interval = 1h }")
{
    [Fact]
    public async Task Should_replay_a_shard_log_while_another_connection_holds_the_write_lock()
    {
        var extractor = new CounterMessageExtractor(100);
        const string first = "replay-first";
        var other = Enumerable.Range(0, 1000).Select(i => $"replay-{i}").First(k => extractor.ShardOfKey(k) != extractor.ShardOfKey(first));
        // the journal is initialized and its file in WAL mode before the lock is taken
        Assert.IsType<IncrementAccepted>(await Region.Ask<ICounterReply>(new Increment(first, 1), AskTimeout));

        var journalFile = Path.Combine(Database.Dir.Path, "journal.db");
        await using var writer = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = journalFile, Pooling = false }.ToString());
        await writer.OpenAsync();
        await using (var begin = writer.CreateCommand())
        {
            begin.CommandText = "BEGIN IMMEDIATE";
            await begin.ExecuteNonQueryAsync();
        }

        try
        {
            // the key's shard log starts and replays (its highest sequence number and its events) while the lock is held
            Assert.Equal(new CounterValue(other, 0, 0, 0), await Region.Ask<ICounterReply>(new GetCounter(other), TimeSpan.FromSeconds(10)));
        }
        finally
        {
            await using var rollback = writer.CreateCommand();
            rollback.CommandText = "ROLLBACK";
            await rollback.ExecuteNonQueryAsync();
        }
    }
}
