using System.Data.Common;
using Npgsql;

namespace Akka.WriteBehind.Sql;

/// <summary>
/// INTERNAL API
/// <para>Helpers for Npgsql connection strings shared by the PostgreSQL store, the journal configuration and the Host.</para>
/// </summary>
internal static class PostgresConnectionStrings
{
    // Npgsql's spellings of Maximum Pool Size, compared without spaces and case
    private static readonly string[] MaxPoolSizeKeywords = ["maximumpoolsize", "maxpoolsize"];

    /// <summary>
    /// <paramref name="connectionString"/> with <c>Maximum Pool Size</c> = <paramref name="maxPoolSize"/> when it sets no pool
    /// size itself (Npgsql's own default, 100, is the server's default <c>max_connections</c>: one node could take them all).
    /// </summary>
    /// <exception cref="ArgumentException">Not an Npgsql connection string.</exception>
    public static string WithDefaultMaxPoolSize(string connectionString, int maxPoolSize)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (!SetsMaxPoolSize(connectionString))
            builder.MaxPoolSize = maxPoolSize;
        return builder.ConnectionString;
    }

    /// <summary><c>host:port/database</c> of <paramref name="connectionString"/>: where it points, without credentials.</summary>
    /// <exception cref="ArgumentException">Not an Npgsql connection string.</exception>
    public static string Describe(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        return $"{builder.Host}:{builder.Port}/{builder.Database ?? builder.Username}";
    }

    private static bool SetsMaxPoolSize(string connectionString)
    {
        var generic = new DbConnectionStringBuilder { ConnectionString = connectionString };
        return generic.Keys.Cast<string>()
            .Select(k => k.Replace(" ", "", StringComparison.Ordinal).ToLowerInvariant())
            .Any(k => MaxPoolSizeKeywords.Contains(k, StringComparer.Ordinal));
    }
}
