using Akka.Configuration;

namespace Akka.WriteBehind.Storage;

/// <summary>Builds the default SQLite stores from <c>akka.write-behind.storage.sqlite</c>.</summary>
public static class SqliteStores
{
    /// <summary>Path of the SQLite section.</summary>
    public const string ConfigPath = "akka.write-behind.storage.sqlite";

    /// <summary>
    /// The counter store of the configuration <paramref name="root"/> (library defaults as fallback): <c>connection-string</c>
    /// when set, else the file <c>file-name</c> in <c>data-dir</c>.
    /// </summary>
    /// <param name="root">The actor system's whole configuration.</param>
    /// <exception cref="ConfigurationException">The section is missing or names no file.</exception>
    public static SqliteCounterStore CounterStoreFromConfig(Config root)
    {
        var section = root.WithFallback(WriteBehindConfig.DefaultConfig()).GetConfig(ConfigPath);
        if (section.IsNullOrEmpty())
            throw new ConfigurationException($"Configuration section {ConfigPath} is missing.");

        var connectionString = section.GetString("connection-string", "");
        if (!string.IsNullOrWhiteSpace(connectionString))
            return new SqliteCounterStore(connectionString);

        var dataDir = section.GetString("data-dir", "");
        var fileName = section.GetString("file-name", "");
        if (string.IsNullOrWhiteSpace(dataDir) || string.IsNullOrWhiteSpace(fileName))
            throw new ConfigurationException($"{ConfigPath}.data-dir and {ConfigPath}.file-name must be set when connection-string is empty.");
        return SqliteCounterStore.ForDirectory(dataDir, fileName);
    }
}
