using Akka.Configuration;
using Microsoft.Data.Sqlite;

namespace Akka.WriteBehind.Sql;

/// <summary>The SQLite database of <c>akka.write-behind.storage.sqlite</c>, which every feature's SQLite store shares (one file).</summary>
public static class SqliteStores
{
    /// <summary>Path of the SQLite section.</summary>
    public const string ConfigPath = "akka.write-behind.storage.sqlite";

    /// <summary>
    /// The connection string of the configuration <paramref name="root"/> (library defaults as fallback): <c>connection-string</c>
    /// when set, else the file <c>file-name</c> in <c>data-dir</c> (the directory is created when missing).
    /// </summary>
    /// <param name="root">The actor system's whole configuration.</param>
    /// <exception cref="ConfigurationException">The section is missing or names no file.</exception>
    public static string ConnectionStringFromConfig(Config root)
    {
        var section = root.WithFallback(WriteBehindConfig.DefaultConfig()).GetConfig(ConfigPath);
        if (section.IsNullOrEmpty())
            throw new ConfigurationException($"Configuration section {ConfigPath} is missing.");

        var connectionString = section.GetString("connection-string", "");
        if (!string.IsNullOrWhiteSpace(connectionString))
            return connectionString;

        var dataDir = section.GetString("data-dir", "");
        var fileName = section.GetString("file-name", "");
        if (string.IsNullOrWhiteSpace(dataDir) || string.IsNullOrWhiteSpace(fileName))
            throw new ConfigurationException($"{ConfigPath}.data-dir and {ConfigPath}.file-name must be set when connection-string is empty.");
        return FileConnectionString(dataDir, fileName);
    }

    /// <summary>The connection string of the file <paramref name="fileName"/> in <paramref name="dataDir"/> (created when missing), pooled.</summary>
    /// <param name="dataDir">Directory of the database file.</param>
    /// <param name="fileName">File name.</param>
    public static string FileConnectionString(string dataDir, string fileName)
    {
        var dir = Path.GetFullPath(dataDir);
        Directory.CreateDirectory(dir);
        return new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(dir, fileName),
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
        }.ToString();
    }
}
