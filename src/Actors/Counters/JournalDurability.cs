using Akka.Configuration;
using Akka.WriteBehind.Internal;
using Akka.Persistence.Sql;
using Akka.WriteBehind.Sql;
using Microsoft.Data.Sqlite;

namespace Akka.WriteBehind.Counters;

/// <summary>
/// Configuration of journal durability: Akka.Persistence.Sql as the counters' journal (<c>akka.persistence.journal.sql</c>),
/// on SQLite or PostgreSQL, its tables (<c>journal</c>, <c>tags</c>) created on first start. Use the result as a fallback of
/// the application's configuration, so that an explicit journal configuration wins.
/// </summary>
public static class JournalDurability
{
    /// <summary>Akka.Persistence.Sql (linq2db) provider name of PostgreSQL.</summary>
    public const string PostgresProviderName = "PostgreSQL.15";

    /// <summary>Akka.Persistence.Sql (linq2db) provider name of SQLite through Microsoft.Data.Sqlite.</summary>
    public const string SqliteProviderName = "SQLite.MS";

    /// <summary>Connections the PostgreSQL journal opens at most when its connection string sets no <c>Maximum Pool Size</c>.</summary>
    public const int DefaultPostgresMaxPoolSize = 20;

    /// <summary>
    /// Persistent actors that replay at the same time with the PostgreSQL journal (<c>akka.persistence.max-concurrent-recoveries</c>,
    /// Akka's default is 50): each replay holds a pooled connection, so they stay well below <see cref="DefaultPostgresMaxPoolSize"/>
    /// and leave connections for the journal's writers.
    /// </summary>
    public const int PostgresMaxConcurrentRecoveries = 10;

    /// <summary>The journal's concurrent writers on PostgreSQL (each a pooled connection).</summary>
    public const int PostgresParallelism = 4;

    /// <summary>
    /// The journal on the SQLite file <paramref name="journalFile"/>, with Akka.Persistence.Sql's defaults as fallback.
    /// </summary>
    /// <param name="journalFile">The journal's SQLite file, e.g. <c>./data/journal.db</c>.</param>
    public static Config Config(string journalFile)
    {
        var connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path.GetFullPath(journalFile),
            Mode = SqliteOpenMode.ReadWriteCreate,
        }.ToString();
        return Plugin(connectionString, SqliteProviderName, """
            # SQLite has one writer at a time: concurrent journal writers only wait for each other's locks
            akka.persistence.journal.sql.parallelism = 1
            # every batch as one multi-row insert: row by row (the plugin's default below 100 rows) cost the single
            # writer a statement per shard-log event
            akka.persistence.journal.sql.max-row-by-row-size = 0
            # Microsoft.Data.Sqlite opens every transaction but a read-uncommitted one as BEGIN IMMEDIATE, which takes the
            # file's write lock: a shard log's replay then met the writer's inserts and slept 150 ms before its retry. In WAL
            # mode a deferred read sees committed rows only (read_uncommitted matters only to shared-cache connections).
            akka.persistence.journal.sql.read-isolation-level = read-uncommitted
            """);
    }

    /// <summary>
    /// The journal on the PostgreSQL database of <paramref name="connectionString"/> (provider <see cref="PostgresProviderName"/>),
    /// with Akka.Persistence.Sql's defaults as fallback. The pool is limited to <paramref name="defaultMaxPoolSize"/> connections
    /// unless the connection string sets its own <c>Maximum Pool Size</c>; replays are limited to
    /// <see cref="PostgresMaxConcurrentRecoveries"/> at a time so that they cannot exhaust it.
    /// </summary>
    /// <param name="connectionString">An Npgsql connection string, e.g. <c>Host=127.0.0.1;Database=writebehind;Username=app;Password=…</c>.</param>
    /// <param name="defaultMaxPoolSize">Pool size when the connection string sets none. <b>Default</b>: <see cref="DefaultPostgresMaxPoolSize"/>.</param>
    /// <exception cref="ArgumentException">Not an Npgsql connection string.</exception>
    public static Config PostgresConfig(string connectionString, int defaultMaxPoolSize = DefaultPostgresMaxPoolSize)
    {
        if (string.IsNullOrWhiteSpace(connectionString))
            throw new ArgumentException("A PostgreSQL connection string is required.", nameof(connectionString));
        return Plugin(PostgresConnectionStrings.WithDefaultMaxPoolSize(connectionString, defaultMaxPoolSize), PostgresProviderName, $"""
            akka.persistence.journal.sql.parallelism = {PostgresParallelism}
            akka.persistence.max-concurrent-recoveries = {PostgresMaxConcurrentRecoveries}
            """);
    }

    private static Config Plugin(string connectionString, string providerName, string extra) =>
        ConfigurationFactory.ParseString($$"""
                akka.persistence.journal.sql {
                  connection-string = {{HoconText.Quote(connectionString)}}
                  provider-name = "{{providerName}}"
                  auto-initialize = true
                  # Akka.Persistence's default keeps the breaker open 30s after it trips: that long after the database
                  # came back every persist and every shard log's recovery still failed. A trial call a second costs a
                  # refused connection while the database is down.
                  circuit-breaker.reset-timeout = 1s
                }
                {{extra}}
                """)
            .WithFallback(SqlPersistence.DefaultConfiguration);
}
