using Akka.Actor;
using Akka.Configuration;
using Akka.Event;
using Microsoft.Data.Sqlite;

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

/// <summary>
/// INTERNAL API
/// <para>Read access to the Akka.Persistence.Sql journal table of the counters' journal plugin (SQLite).</para>
/// </summary>
internal sealed class JournalTable
{
    private readonly string _connectionString;
    private readonly string _tableName;
    private readonly string _persistenceIdColumn;
    private readonly string _deletedColumn;

    private JournalTable(string connectionString, string tableName, string persistenceIdColumn, string deletedColumn)
    {
        _connectionString = connectionString;
        _tableName = tableName;
        _persistenceIdColumn = persistenceIdColumn;
        _deletedColumn = deletedColumn;
    }

    /// <summary>The journal table of the plugin at <paramref name="pluginId"/>, when it is Akka.Persistence.Sql on SQLite.</summary>
    /// <param name="root">The actor system's configuration.</param>
    /// <param name="pluginId">The journal plugin's path.</param>
    /// <param name="why">Why there is none.</param>
    /// <exception cref="ConfigurationException">The plugin is not configured at all.</exception>
    public static JournalTable? TryFromConfig(Config root, string pluginId, out string why)
    {
        var plugin = root.GetConfig(pluginId);
        if (plugin.IsNullOrEmpty())
            throw new ConfigurationException($"Journal plugin {pluginId} is not configured (journal durability needs it).");
        var provider = plugin.GetString("provider-name", "");
        var connectionString = plugin.GetString("connection-string", "");
        var isSql = plugin.GetString("class", "").StartsWith("Akka.Persistence.Sql.", StringComparison.Ordinal);
        if (!isSql || string.IsNullOrWhiteSpace(connectionString) || !provider.StartsWith("SQLite", StringComparison.OrdinalIgnoreCase))
        {
            why = $"{pluginId} is not Akka.Persistence.Sql on SQLite";
            return null;
        }

        why = "";
        // the table mapping in force ("default" unless the application chose a legacy one)
        var mapping = plugin.GetConfig(plugin.GetString("table-mapping", "default") + ".journal");
        return new JournalTable(
            connectionString,
            mapping?.GetString("table-name", "journal") ?? "journal",
            mapping?.GetString("columns.persistence-id", "persistence_id") ?? "persistence_id",
            mapping?.GetString("columns.deleted", "deleted") ?? "deleted");
    }

    /// <summary>Switches the SQLite journal file to WAL (readers do not block the writer) and creates its directory.</summary>
    public async Task PrepareAsync()
    {
        var builder = new SqliteConnectionStringBuilder(_connectionString);
        var dir = Path.GetDirectoryName(Path.GetFullPath(builder.DataSource));
        if (!string.IsNullOrEmpty(dir))
            Directory.CreateDirectory(dir);
        await using var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync().ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode = WAL";
        await command.ExecuteNonQueryAsync().ConfigureAwait(false);
    }

    /// <summary>Persistence ids starting with <paramref name="prefix"/> that have events not deleted.</summary>
    public async Task<IReadOnlyList<string>> PersistenceIdsWithEventsAsync(string prefix, int limit)
    {
        await using var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync().ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT name FROM sqlite_master WHERE type = 'table' AND name = @table
            """;
        command.Parameters.AddWithValue("@table", _tableName);
        if (await command.ExecuteScalarAsync().ConfigureAwait(false) is null)
            return []; // no journal yet: nothing was ever persisted

        command.CommandText = $"""
            SELECT DISTINCT "{_persistenceIdColumn}" FROM "{_tableName}"
            WHERE "{_deletedColumn}" = 0 AND substr("{_persistenceIdColumn}", 1, length(@prefix)) = @prefix
            LIMIT @limit
            """;
        command.Parameters.AddWithValue("@prefix", prefix);
        command.Parameters.AddWithValue("@limit", limit);
        var ids = new List<string>();
        await using var reader = await command.ExecuteReaderAsync().ConfigureAwait(false);
        while (await reader.ReadAsync().ConfigureAwait(false))
            ids.Add(reader.GetString(0));
        return ids;
    }

    /// <summary>Events not deleted per persistence id starting with <paramref name="prefix"/> (for tests and operators).</summary>
    public async Task<IReadOnlyDictionary<string, long>> EventCountsAsync(string prefix)
    {
        await using var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync().ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT "{_persistenceIdColumn}", count(*) FROM "{_tableName}"
            WHERE "{_deletedColumn}" = 0 AND substr("{_persistenceIdColumn}", 1, length(@prefix)) = @prefix
            GROUP BY "{_persistenceIdColumn}"
            """;
        command.Parameters.AddWithValue("@prefix", prefix);
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync().ConfigureAwait(false);
        while (await reader.ReadAsync().ConfigureAwait(false))
            counts[reader.GetString(0)] = reader.GetInt64(1);
        return counts;
    }
}
