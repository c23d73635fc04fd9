using Akka.WriteBehind.Counters;
using Akka.WriteBehind.Refresh;
using Akka.WriteBehind.Sql;
using Akka.WriteBehind.Tests.Support;
using PostgresDatabase = Akka.WriteBehind.Sql.PostgresDatabase;

namespace Akka.WriteBehind.Tests.Sql;

/// <summary>The shared database plumbing: one PostgreSQL pool per database, one SQLite write lock per file.</summary>
public sealed class SqlDatabaseSpec : IDisposable
{
    private const string Postgres = "Host=127.0.0.1;Port=5432;Database=sql_database_spec;Username=nobody";
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Should_share_one_postgres_pool_among_the_leases_of_one_database()
    {
        using var first = PostgresDatabase.Lease(Postgres);
        using var second = PostgresDatabase.Lease(Postgres);
        using var other = PostgresDatabase.Lease(Postgres + ";Application Name=other");

        Assert.Same(first.DataSource, second.DataSource);
        Assert.NotSame(first.DataSource, other.DataSource);
        Assert.Equal("127.0.0.1:5432/sql_database_spec", first.Description);
    }

    [Fact]
    public void Should_close_the_postgres_pool_with_its_last_lease_only()
    {
        var first = PostgresDatabase.Lease(Postgres + ";Application Name=last-lease");
        var second = first.Share();
        var pool = first.DataSource;

        first.Dispose();
        first.Dispose(); // a lease is returned once
        using (var third = PostgresDatabase.Lease(Postgres + ";Application Name=last-lease"))
            Assert.Same(pool, third.DataSource);
        second.Dispose();

        using var fresh = PostgresDatabase.Lease(Postgres + ";Application Name=last-lease");
        Assert.NotSame(pool, fresh.DataSource);
    }

    [Fact]
    public void Should_refuse_an_empty_connection_string_with_a_typed_error()
    {
        Assert.Throws<ArgumentException>(() => PostgresDatabase.Lease(" "));
        Assert.Throws<ArgumentException>(() => new SqliteDatabase(""));
    }

    [Fact]
    public async Task Should_let_one_writer_at_a_time_into_a_sqlite_file_whichever_store_asks()
    {
        var connectionString = SqliteStores.FileConnectionString(_dir.Path, "writebehind.db");
        var one = new SqliteDatabase(connectionString);
        var two = new SqliteDatabase($"Data Source={_dir.DatabaseFile}");

        var held = await one.LockWritesAsync(CancellationToken.None);
        var waiting = two.LockWritesAsync(CancellationToken.None);
        Assert.False(waiting.IsCompleted);
        held.Dispose();
        (await waiting.WaitAsync(TimeSpan.FromSeconds(10))).Dispose();
    }

    [Fact]
    public async Task Should_make_the_counter_and_refresh_stores_of_one_file_take_turns()
    {
        var connectionString = SqliteStores.FileConnectionString(_dir.Path, "writebehind.db");
        var counters = new SqliteCounterStore(connectionString);
        var items = new SqliteRefreshItemStore(connectionString);
        await counters.InitializeAsync();
        await items.InitializeAsync();

        var held = await new SqliteDatabase(connectionString).LockWritesAsync(CancellationToken.None);
        var counterWrite = counters.ApplyAsync([new CounterWrite("k", 5, 1)]);
        var itemWrite = items.ApplyAsync([new RefreshItemWrite("i", new RefreshItem("i", "s", false))]);
        // neither can finish while another store holds the file's write lock (without it, each commits in milliseconds)
        var first = await Task.WhenAny(counterWrite, itemWrite, Task.Delay(TimeSpan.FromMilliseconds(500)));
        Assert.False(first == counterWrite || first == itemWrite, "a store wrote while another held the file's write lock");
        held.Dispose();

        var stored = await counterWrite.WaitAsync(TimeSpan.FromSeconds(10));
        await itemWrite.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(5, stored["k"].Value);
        Assert.Equal("s", (await items.LoadAsync("i"))!.State);
    }
}
