using Akka.Configuration;
using Akka.Persistence.Sql;
using Microsoft.Data.Sqlite;

namespace Akka.WriteBehind.Counters;

/// <summary>Configuration of journal durability: Akka.Persistence.Sql as the counters' journal.</summary>
public static class JournalDurability
{
    /// <summary>
    /// HOCON that makes <c>akka.persistence.journal.sql</c> an Akka.Persistence.Sql journal on the SQLite file
    /// <paramref name="journalFile"/> (tables created on first start), with Akka.Persistence.Sql's defaults as fallback.
    /// Use it as a fallback of the application's configuration so that an explicit journal configuration wins.
    /// </summary>
    /// <param name="journalFile">The journal's SQLite file, e.g. <c>./data/journal.db</c>.</param>
    public static Config Config(string journalFile)
    {
        var connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path.GetFullPath(journalFile),
            Mode = SqliteOpenMode.ReadWriteCreate,
        }.ToString();
        return ConfigurationFactory.ParseString($$"""
                akka.persistence.journal.sql {
                  connection-string = "{{connectionString.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)}}"
                  provider-name = "SQLite.MS"
                  auto-initialize = true
                  # SQLite has one writer at a time: concurrent journal writers only wait for each other's locks
                  parallelism = 1
                }
                """)
            .WithFallback(SqlPersistence.DefaultConfiguration);
    }
}
