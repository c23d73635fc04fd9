using Akka.Configuration;
using Akka.WriteBehind.Counters;
using Npgsql;

namespace Akka.WriteBehind.Tests.Support;

/// <summary>
/// The database a spec's counters and journal live in — a SQLite file or a PostgreSQL database — with what the specs need
/// from it: stores on it, the journal configured on it, the Host's options for it, and direct reads as an operator would.
/// The same spec code runs against either (<see cref="SqliteTestDatabase"/>, <see cref="PostgresTestDatabase"/>).
/// </summary>
public abstract class TestDatabase : IDisposable
{
    private readonly List<ICounterStore> _stores = new();

    /// <summary>A fresh directory (the SQLite files; the Host's working directory either way).</summary>
    internal TempDirectory Dir { get; } = new();

    /// <summary>Journal durability on this database (Akka.Persistence.Sql at <c>akka.persistence.journal.sql</c>).</summary>
    public abstract Config JournalConfig { get; }

    /// <summary>The Host's options that put its counters and journal here (besides <c>--data-dir</c>).</summary>
    public abstract IReadOnlyList<string> HostOptions { get; }

    /// <summary>The <c>store=</c> part of the Host's up line.</summary>
    public abstract string HostStoreDescription { get; }

    /// <summary>A new store on this database (disposed with it).</summary>
    public ICounterStore CreateStore()
    {
        var store = NewStore();
        _stores.Add(store);
        return store;
    }

    /// <summary>Every row of the counters table (none when it does not exist).</summary>
    public abstract Task<Dictionary<string, StoredCounter>> ReadRowsAsync();

    /// <summary>Every counter's stored value.</summary>
    public async Task<Dictionary<string, long>> ReadCountersAsync() =>
        (await ReadRowsAsync()).ToDictionary(kv => kv.Key, kv => kv.Value.Value, StringComparer.Ordinal);

    /// <summary>Rows of the counters table and the sum of their values.</summary>
    public async Task<(long Rows, long Sum)> CountAndSumAsync()
    {
        var rows = await ReadRowsAsync();
        return (rows.Count, rows.Values.Sum(r => r.Value));
    }

    /// <summary>Undeleted journal events per shard log (the persistence id without its counter-set prefix, e.g. <c>shard-17</c>).</summary>
    public async Task<Dictionary<string, long>> JournalEventCountsAsync()
    {
        var table = JournalTable.TryFromConfig(JournalConfig, "akka.persistence.journal.sql", out var why)
                    ?? throw new InvalidOperationException(why);
        return (await table.EventCountsAsync("")).ToDictionary(kv => kv.Key.Split('|', 2)[1], kv => kv.Value, StringComparer.Ordinal);
    }

    public virtual void Dispose()
    {
        foreach (var store in _stores.OfType<IDisposable>())
            store.Dispose();
        Dir.Dispose();
    }

    private protected abstract ICounterStore NewStore();
}

/// <summary>SQLite files in a fresh directory: <c>writebehind.db</c> (counters) and <c>journal.db</c>.</summary>
public sealed class SqliteTestDatabase : TestDatabase
{
    /// <summary>The counters file.</summary>
    public string DatabaseFile => Dir.DatabaseFile;

    public override Config JournalConfig => JournalDurability.Config(Path.Combine(Dir.Path, "journal.db"));

    public override IReadOnlyList<string> HostOptions => [];

    public override string HostStoreDescription => "sqlite:" + DatabaseFile;

    public override async Task<Dictionary<string, StoredCounter>> ReadRowsAsync()
    {
        if (!File.Exists(DatabaseFile))
            return new Dictionary<string, StoredCounter>();
        return await SqliteTable.ReadRowsAsync(DatabaseFile);
    }

    private protected override ICounterStore NewStore() => SqliteCounterStore.ForDirectory(Dir.Path);
}

/// <summary>A fresh database on the <see cref="PostgresFixture"/>'s server, dropped on dispose.</summary>
public sealed class PostgresTestDatabase(PostgresFixture server) : TestDatabase
{
    private readonly PostgresDatabase _database = server.CreateDatabase();

    /// <summary>The database's connection string.</summary>
    public string ConnectionString => _database.ConnectionString;

    public override Config JournalConfig => JournalDurability.PostgresConfig(ConnectionString);

    public override IReadOnlyList<string> HostOptions => ["--store", "postgres", "--connection-string", ConnectionString];

    public override string HostStoreDescription => $"postgres:127.0.0.1:{server.Port}/{_database.Name}";

    public override async Task<Dictionary<string, StoredCounter>> ReadRowsAsync()
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT key, value, applied_seq FROM counters", connection);
        var rows = new Dictionary<string, StoredCounter>(StringComparer.Ordinal);
        try
        {
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
                rows.Add(reader.GetString(0), new StoredCounter(reader.GetInt64(1), reader.GetInt64(2)));
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            // no table yet: nothing was written
        }

        return rows;
    }

    public override void Dispose()
    {
        base.Dispose();
        _database.Dispose();
    }

    private protected override ICounterStore NewStore() => new PostgresCounterStore(ConnectionString);
}
