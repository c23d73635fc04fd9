using Akka.Configuration;
using Akka.WriteBehind.Refresh;
using Akka.WriteBehind.Sql;
using Akka.WriteBehind.Tests.Support;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Akka.WriteBehind.Tests.Refresh;

/// <summary>The contract of <see cref="IRefreshItemStore"/>, run against each of the library's stores.</summary>
public abstract class RefreshItemStoreSpecBase : IAsyncLifetime
{
    internal abstract IRefreshItemStore Store { get; }

    public virtual Task InitializeAsync() => Store.InitializeAsync();

    public abstract Task DisposeAsync();

    /// <summary>Runs <paramref name="sql"/> on the store's database (to set up a table as an older release left it).</summary>
    internal abstract Task ExecuteAsync(string sql);

    /// <summary>A store of the same kind on the same database, on the table <paramref name="table"/>.</summary>
    internal abstract IRefreshItemStore OnTable(string table);

    [Fact]
    public async Task Should_keep_the_items_of_another_table_apart()
    {
        var other = OnTable("refresh_items_other");
        await other.InitializeAsync();
        await Store.SaveAsync(new RefreshItem("a", "mine"));
        await other.SaveAsync(new RefreshItem("a", "theirs"));
        await other.ApplyAsync([RefreshItemWrite.Save(new RefreshItem("b", "theirs")) with { Version = 1 }]);
        await other.ApplyAsync([RefreshItemWrite.Synced("b", new RefreshItem("b", "synced"), 2)]);

        Assert.Equal("mine", (await Store.LoadAsync("a"))!.State);
        Assert.Equal("theirs", (await other.LoadAsync("a"))!.State);
        Assert.Null(await Store.LoadAsync("b"));
        Assert.Equal("synced", (await other.LoadAsync("b"))!.State);
        Assert.Equal(["a"], await Store.ActiveIdsAsync(null, 10));
        Assert.Equal(["a", "b"], await other.ActiveIdsAsync(null, 10));

        await other.DeleteAsync("a");
        Assert.Equal("mine", (await Store.LoadAsync("a"))!.State);
        Assert.Null(await other.LoadAsync("a"));
        (other as IDisposable)?.Dispose();
    }

    [Fact]
    public void Should_refuse_a_table_name_that_is_no_sql_identifier()
    {
        var error = Assert.Throws<ArgumentException>(() => OnTable("items; drop table x"));
        Assert.Equal("tableName", error.ParamName);
    }

    [Fact]
    public async Task Should_apply_a_sync_result_only_over_an_older_row_and_never_create_one()
    {
        await Store.ApplyAsync([RefreshItemWrite.Save(new RefreshItem("raced", "{\"v\":1}")) with { Version = 1 }]);
        Assert.Equal(new StoredRefreshItem(new RefreshItem("raced", "{\"v\":1}"), 1), await Store.LoadVersionedAsync("raced"));

        // a caller's change (version 2) is stored while a sync of version 1 is in flight; its result (version 2) comes late
        await Store.ApplyAsync([RefreshItemWrite.Save(new RefreshItem("raced", "{\"v\":2}")) with { Version = 2 }]);
        await Store.ApplyAsync([
            RefreshItemWrite.Synced("raced", new RefreshItem("raced", "{\"from\":\"sync\"}"), 2),
            RefreshItemWrite.Synced("gone", new RefreshItem("gone", "{\"from\":\"sync\"}"), 5),
        ]);
        Assert.Equal(new StoredRefreshItem(new RefreshItem("raced", "{\"v\":2}"), 2), await Store.LoadVersionedAsync("raced"));
        Assert.Null(await Store.LoadVersionedAsync("gone")); // deleted meanwhile: a sync's result does not bring it back

        // a stale deletion by a sync loses too; a sync based on the stored version wins, deleting included
        await Store.ApplyAsync([RefreshItemWrite.Synced("raced", null, 1)]);
        Assert.NotNull(await Store.LoadAsync("raced"));
        await Store.ApplyAsync([RefreshItemWrite.Synced("raced", new RefreshItem("raced", "{\"from\":\"sync\"}", true), 3)]);
        Assert.Equal(new StoredRefreshItem(new RefreshItem("raced", "{\"from\":\"sync\"}", true), 3), await Store.LoadVersionedAsync("raced"));
        await Store.ApplyAsync([RefreshItemWrite.Synced("raced", null, 4)]);
        Assert.Null(await Store.LoadAsync("raced"));
    }

    [Fact]
    public async Task Should_add_the_version_column_to_a_table_made_without_it()
    {
        await ExecuteAsync("""
            DROP TABLE refresh_items;
            CREATE TABLE refresh_items (id TEXT NOT NULL PRIMARY KEY, state TEXT NOT NULL, terminal BOOLEAN NOT NULL, updated_at TIMESTAMP);
            INSERT INTO refresh_items (id, state, terminal) VALUES ('old', '{}', FALSE);
            """);

        await Store.InitializeAsync();
        await Store.InitializeAsync();

        Assert.Equal(new StoredRefreshItem(new RefreshItem("old", "{}"), 0), await Store.LoadVersionedAsync("old"));
        await Store.ApplyAsync([RefreshItemWrite.Synced("old", new RefreshItem("old", "{\"synced\":1}"), 1)]);
        Assert.Equal(new StoredRefreshItem(new RefreshItem("old", "{\"synced\":1}"), 1), await Store.LoadVersionedAsync("old"));
    }

    [Fact]
    public async Task Should_save_load_replace_and_delete_items()
    {
        Assert.Null(await Store.LoadAsync("job-1"));

        await Store.SaveAsync(new RefreshItem("job-1", "{\"status\":\"queued\"}"));
        Assert.Equal(new RefreshItem("job-1", "{\"status\":\"queued\"}"), await Store.LoadAsync("job-1"));

        await Store.SaveAsync(new RefreshItem("job-1", "{\"status\":\"done\",\"ünïcode\":\"✓\"}", Terminal: true));
        Assert.Equal(new RefreshItem("job-1", "{\"status\":\"done\",\"ünïcode\":\"✓\"}", true), await Store.LoadAsync("job-1"));

        await Store.DeleteAsync("job-1");
        await Store.DeleteAsync("job-1"); // nothing to delete: no error
        Assert.Null(await Store.LoadAsync("job-1"));
    }

    [Fact]
    public async Task Should_page_through_the_ids_of_non_terminal_items_in_ordinal_order()
    {
        var ids = new[] { "b", "a", "C", "é", "a-2", "z" };
        foreach (var id in ids)
            await Store.SaveAsync(new RefreshItem(id, "{}"));
        await Store.SaveAsync(new RefreshItem("finished", "{}", Terminal: true));

        var first = await Store.ActiveIdsAsync(null, 4);
        var second = await Store.ActiveIdsAsync(first[^1], 4);

        var expected = ids.Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(expected[..4], first);
        Assert.Equal(expected[4..], second);
        Assert.Empty(await Store.ActiveIdsAsync(expected[^1], 4));
    }

    [Fact]
    public async Task Should_apply_many_writes_in_one_call_the_last_write_of_an_id_winning()
    {
        await Store.SaveAsync(new RefreshItem("stored-then-deleted", "{}"));
        await Store.SaveAsync(new RefreshItem("deleted-then-saved", "{\"v\":0}"));
        var writes = new List<RefreshItemWrite>();
        for (var i = 0; i < 700; i++) // more than one multi-row statement
            writes.Add(RefreshItemWrite.Save(new RefreshItem($"item-{i:D4}", $"{{\"v\":{i}}}", Terminal: i % 7 == 0)));
        writes.Add(RefreshItemWrite.Save(new RefreshItem("twice", "{\"v\":1}")));
        writes.Add(RefreshItemWrite.Save(new RefreshItem("twice", "{\"v\":2}", Terminal: true)));
        writes.Add(RefreshItemWrite.Delete("stored-then-deleted"));
        writes.Add(RefreshItemWrite.Delete("deleted-then-saved"));
        writes.Add(RefreshItemWrite.Save(new RefreshItem("deleted-then-saved", "{\"v\":3}")));
        writes.Add(RefreshItemWrite.Save(new RefreshItem("saved-then-deleted", "{}")));
        writes.Add(RefreshItemWrite.Delete("saved-then-deleted"));
        writes.Add(RefreshItemWrite.Delete("never-stored"));

        await Store.ApplyAsync(writes);

        for (var i = 0; i < 700; i++)
            Assert.Equal(new RefreshItem($"item-{i:D4}", $"{{\"v\":{i}}}", i % 7 == 0), await Store.LoadAsync($"item-{i:D4}"));
        Assert.Equal(new RefreshItem("twice", "{\"v\":2}", true), await Store.LoadAsync("twice"));
        Assert.Null(await Store.LoadAsync("stored-then-deleted"));
        Assert.Equal(new RefreshItem("deleted-then-saved", "{\"v\":3}"), await Store.LoadAsync("deleted-then-saved"));
        Assert.Null(await Store.LoadAsync("saved-then-deleted"));
        Assert.Null(await Store.LoadAsync("never-stored"));
        await Store.ApplyAsync([]); // nothing to do: no error
    }

    [Fact]
    public async Task Should_apply_all_writes_of_a_call_or_none()
    {
        await Store.SaveAsync(new RefreshItem("kept", "{}"));
        var writes = new List<RefreshItemWrite> { RefreshItemWrite.Delete("kept") };
        for (var i = 0; i < 400; i++)
            writes.Add(RefreshItemWrite.Save(new RefreshItem($"item-{i:D4}", "{}")));
        writes.Add(RefreshItemWrite.Save(new RefreshItem("zz-bad", null!))); // state is NOT NULL: the last rows fail

        await Assert.ThrowsAnyAsync<Exception>(() => Store.ApplyAsync(writes));

        Assert.Null(await Store.LoadAsync("item-0000"));
        Assert.Null(await Store.LoadAsync("item-0399"));
        Assert.NotNull(await Store.LoadAsync("kept"));
    }

    [Fact]
    public void Should_refuse_a_save_filed_under_another_id() =>
        Assert.Throws<ArgumentException>(() => new RefreshItemWrite("a", new RefreshItem("b", "{}")));

    [Fact]
    public async Task Should_initialize_idempotently()
    {
        await Store.SaveAsync(new RefreshItem("kept", "1"));

        await Store.InitializeAsync();

        Assert.Equal("1", (await Store.LoadAsync("kept"))!.State);
    }
}

public sealed class SqliteRefreshItemStoreSpec : RefreshItemStoreSpecBase
{
    private readonly TempDirectory _dir = new();

    public SqliteRefreshItemStoreSpec() => Store = SqliteRefreshItemStore.ForDirectory(_dir.Path);

    internal override IRefreshItemStore Store { get; }

    internal override IRefreshItemStore OnTable(string table) =>
        new SqliteRefreshItemStore(SqliteStores.FileConnectionString(_dir.Path, "writebehind.db"), table);

    internal override async Task ExecuteAsync(string sql)
    {
        await using var connection = new SqliteConnection(SqliteStores.FileConnectionString(_dir.Path, "writebehind.db"));
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    public override Task DisposeAsync()
    {
        _dir.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public void Should_be_chosen_by_the_sqlite_provider_in_the_counters_file()
    {
        var store = Assert.IsType<SqliteRefreshItemStore>(RefreshItemStores.FromConfig(
            ConfigurationFactory.ParseString($"akka.write-behind.storage.sqlite.data-dir = \"{_dir.Path}\"")));

        Assert.Equal(_dir.DatabaseFile, store.DataSource);
    }
}

[Collection(PostgresFixture.Collection)]
public sealed class PostgresRefreshItemStoreSpec : RefreshItemStoreSpecBase
{
    private readonly PostgresFixture _server;
    private readonly Support.PostgresDatabase _database;
    private readonly PostgresRefreshItemStore _store;

    public PostgresRefreshItemStoreSpec(PostgresFixture server)
    {
        _server = server;
        _database = server.CreateDatabase();
        _store = new PostgresRefreshItemStore(_database.ConnectionString);
    }

    internal override IRefreshItemStore Store => _store;

    internal override IRefreshItemStore OnTable(string table) => new PostgresRefreshItemStore(_database.ConnectionString, tableName: table);

    internal override async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    public override async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        NpgsqlConnection.ClearAllPools();
        _database.Dispose();
    }

    [Fact]
    public async Task Should_create_the_table_once_when_many_nodes_start_at_the_same_time()
    {
        var database = _server.CreateDatabase();
        try
        {
            var stores = Enumerable.Range(0, 8).Select(_ => new PostgresRefreshItemStore(database.ConnectionString)).ToArray();

            await Task.WhenAll(stores.Select(s => Task.Run(() => s.InitializeAsync())));

            await stores[0].SaveAsync(new RefreshItem("created", "{}"));
            Assert.Equal("{}", (await stores[7].LoadAsync("created"))!.State);
            foreach (var store in stores)
                await store.DisposeAsync();
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            database.Dispose();
        }
    }

    [Fact]
    public async Task Should_have_the_documented_schema()
    {
        await using var connection = new NpgsqlConnection(_database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            SELECT string_agg(column_name || ' ' || data_type || ' ' || is_nullable, ', ' ORDER BY ordinal_position)
            FROM information_schema.columns WHERE table_name = 'refresh_items'
            """, connection);
        Assert.Equal("id text NO, state text NO, terminal boolean NO, updated_at timestamp without time zone YES, version bigint NO",
            (string?)await command.ExecuteScalarAsync());
    }

    [Fact]
    public void Should_be_chosen_by_the_postgres_provider()
    {
        using var store = Assert.IsType<PostgresRefreshItemStore>(RefreshItemStores.FromConfig(ConfigurationFactory.ParseString($"""
            akka.write-behind.storage.provider = postgres
            akka.write-behind.storage.postgres.connection-string = "{_database.ConnectionString}"
            """)));

        Assert.Throws<ConfigurationException>(() => RefreshItemStores.FromConfig(
            ConfigurationFactory.ParseString("akka.write-behind.storage.provider = postgres")));
    }
}
