using System.Data.Common;
using Akka.Actor;
using Akka.Persistence;
using Akka.Configuration;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Akka.WriteBehind.Counters;

/// <summary>
/// INTERNAL API
/// <para>
/// Read access to the Akka.Persistence.Sql journal table of the counters' journal plugin, on SQLite or PostgreSQL, with the
/// table and column names of the plugin's table mapping. Connections use the plugin's own connection string (on
/// PostgreSQL, the journal's Npgsql pool).
/// </para>
/// </summary>
internal sealed class JournalTable
{
    private readonly bool _sqlite;
    private readonly string _connectionString;
    private readonly string? _schemaName;
    private readonly string _tableName;
    private readonly string _persistenceIdColumn;
    private readonly string _deletedColumn;

    private JournalTable(bool sqlite, string connectionString, string? schemaName, string tableName, string persistenceIdColumn, string deletedColumn)
    {
        _sqlite = sqlite;
        _connectionString = connectionString;
        _schemaName = schemaName;
        _tableName = tableName;
        _persistenceIdColumn = persistenceIdColumn;
        _deletedColumn = deletedColumn;
    }

    /// <summary>The journal table of the plugin at <paramref name="pluginId"/>, when it is Akka.Persistence.Sql on SQLite or PostgreSQL.</summary>
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
        var sqlite = provider.StartsWith("SQLite", StringComparison.OrdinalIgnoreCase);
        var postgres = provider.StartsWith("PostgreSQL", StringComparison.OrdinalIgnoreCase);
        if (!isSql || string.IsNullOrWhiteSpace(connectionString) || !(sqlite || postgres))
        {
            why = $"{pluginId} is not Akka.Persistence.Sql on SQLite or PostgreSQL";
            return null;
        }

        why = "";
        // the table mapping in force ("default" unless the application chose a legacy one)
        var mappingName = plugin.GetString("table-mapping", "default");
        var schema = plugin.GetString(mappingName + ".schema-name", null);
        var mapping = plugin.GetConfig(mappingName + ".journal");
        return new JournalTable(
            sqlite,
            connectionString,
            string.IsNullOrWhiteSpace(schema) ? null : schema,
            mapping?.GetString("table-name", "journal") ?? "journal",
            mapping?.GetString("columns.persistence-id", "persistence_id") ?? "persistence_id",
            mapping?.GetString("columns.deleted", "deleted") ?? "deleted");
    }

    /// <summary>SQLite: switches the journal file to WAL (readers do not block the writer) and creates its directory. PostgreSQL: nothing to do.</summary>
    public async Task PrepareAsync()
    {
        if (!_sqlite)
            return;
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

    /// <summary>
    /// PostgreSQL: makes the journal plugin at <paramref name="pluginId"/> create its tables now, one node at a time. Nodes that
    /// start together would otherwise each run the plugin's <c>CREATE TABLE IF NOT EXISTS</c> at the same moment, which
    /// PostgreSQL can refuse (a unique violation in its catalog; the plugin logs an error and retries later). Under a
    /// session advisory lock held on the journal's database, a replay of a persistence id that has no events is asked of
    /// the journal: it answers once its initialization (table creation) is done. SQLite: nothing to do (one file, one writer).
    /// A journal that does not answer within <paramref name="timeout"/> is left to initialize on its own.
    /// </summary>
    /// <returns>False when the journal did not answer in time.</returns>
    public async Task<bool> InitializeJournalAsync(ActorSystem system, string pluginId, TimeSpan timeout)
    {
        if (_sqlite)
            return true;
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync().ConfigureAwait(false);
        await using (var lockCommand = new NpgsqlCommand("SELECT pg_advisory_lock(hashtext('akka.write-behind:journal'))", connection))
            await lockCommand.ExecuteNonQueryAsync().ConfigureAwait(false);
        try
        {
            var journal = Persistence.Persistence.Instance.Apply(system).JournalFor(pluginId);
            var reply = await journal.Ask<object>(
                (IActorRef replyTo) => new ReplayMessages(0, 0, 0, "akka.write-behind:journal-probe", replyTo), timeout, CancellationToken.None)
                .ConfigureAwait(false);
            return reply is RecoverySuccess;
        }
        catch (AskTimeoutException)
        {
            return false;
        }
        finally
        {
            // closing the session releases the lock too; unlocking first hands it on without waiting for the pool
            await using var unlock = new NpgsqlCommand("SELECT pg_advisory_unlock(hashtext('akka.write-behind:journal'))", connection);
            await unlock.ExecuteNonQueryAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Persistence ids starting with <paramref name="prefix"/> that have events not deleted.</summary>
    public async Task<IReadOnlyList<string>> PersistenceIdsWithEventsAsync(string prefix, int limit)
    {
        var ids = new List<string>();
        await QueryAsync($"""
            SELECT DISTINCT "{_persistenceIdColumn}" FROM {QuotedTable}
            WHERE {NotDeletedWithPrefix}
            LIMIT @limit
            """, prefix, command => AddParameter(command, "@limit", limit), reader => ids.Add(reader.GetString(0))).ConfigureAwait(false);
        return ids;
    }

    /// <summary>Events not deleted per persistence id starting with <paramref name="prefix"/> (for tests and operators).</summary>
    public async Task<IReadOnlyDictionary<string, long>> EventCountsAsync(string prefix)
    {
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        await QueryAsync($"""
            SELECT "{_persistenceIdColumn}", count(*) FROM {QuotedTable}
            WHERE {NotDeletedWithPrefix}
            GROUP BY "{_persistenceIdColumn}"
            """, prefix, _ => { }, reader => counts[reader.GetString(0)] = reader.GetInt64(1)).ConfigureAwait(false);
        return counts;
    }

    private string QuotedTable => _schemaName is null ? $"\"{_tableName}\"" : $"\"{_schemaName}\".\"{_tableName}\"";

    // @deleted is bound to false: a boolean on PostgreSQL, the integer 0 on SQLite, as the plugin stores it on each
    private string NotDeletedWithPrefix =>
        $"""
         "{_deletedColumn}" = @deleted AND substr("{_persistenceIdColumn}", 1, length(@prefix)) = @prefix
         """;

    /// <summary>Runs <paramref name="sql"/> (with <c>@deleted</c> and <c>@prefix</c> bound) and reads each row; no rows while the table does not exist.</summary>
    private async Task QueryAsync(string sql, string prefix, Action<DbCommand> bind, Action<DbDataReader> read)
    {
        await using var connection = _sqlite ? (DbConnection)new SqliteConnection(_connectionString) : new NpgsqlConnection(_connectionString);
        await connection.OpenAsync().ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = _sqlite
            ? "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = @table"
            : "SELECT to_regclass(@table) IS NOT NULL";
        AddParameter(command, "@table", _sqlite ? _tableName : QuotedTable);
        if (!Convert.ToBoolean(await command.ExecuteScalarAsync().ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture))
            return; // no journal yet: nothing was ever persisted

        command.Parameters.Clear();
        command.CommandText = sql;
        AddParameter(command, "@deleted", false);
        AddParameter(command, "@prefix", prefix);
        bind(command);
        await using var reader = await command.ExecuteReaderAsync().ConfigureAwait(false);
        while (await reader.ReadAsync().ConfigureAwait(false))
            read(reader);
    }

    private static void AddParameter(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }
}
