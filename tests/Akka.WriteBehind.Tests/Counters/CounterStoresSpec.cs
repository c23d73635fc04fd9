using Akka.Configuration;
using Akka.WriteBehind.Counters;
using Akka.WriteBehind.Hosting;
using Akka.WriteBehind.Sql;
using Akka.WriteBehind.Tests.Support;

namespace Akka.WriteBehind.Tests.Counters;

public sealed class CounterStoresSpec
{
    private const string PostgresConnectionString = "Host=db.example;Port=6432;Database=wb;Username=app;Password=secret";

    [Fact]
    public void Should_build_the_sqlite_store_by_default()
    {
        using var dir = new TempDirectory();
        var config = ConfigurationFactory.ParseString($"akka.write-behind.storage.sqlite.data-dir = \"{dir.Path}\"");

        var store = Assert.IsType<SqliteCounterStore>(CounterStores.FromConfig(config));

        Assert.Equal(dir.DatabaseFile, store.DataSource);
        Assert.Equal(StorageProvider.Sqlite, SqlStorage.ProviderFromConfig(Config.Empty));
        Assert.Equal("sqlite:" + dir.DatabaseFile, CounterStores.Describe(config));
    }

    [Fact]
    public void Should_build_the_postgres_store_and_describe_it_without_credentials()
    {
        var config = ConfigurationFactory.ParseString($"""
            akka.write-behind.storage.provider = postgres
            akka.write-behind.storage.postgres.connection-string = "{PostgresConnectionString}"
            """);

        using var store = Assert.IsType<PostgresCounterStore>(CounterStores.FromConfig(config));

        Assert.Equal("db.example:6432/wb", store.Description);
        Assert.Equal("postgres:db.example:6432/wb", CounterStores.Describe(config));
        Assert.DoesNotContain("secret", CounterStores.Describe(config));
    }

    [Theory]
    [InlineData("akka.write-behind.storage.provider = mysql", "akka.write-behind.storage.provider")]
    [InlineData("akka.write-behind.storage.provider = postgres", "akka.write-behind.storage.postgres.connection-string")]
    [InlineData("""
        akka.write-behind.storage.provider = postgres
        akka.write-behind.storage.postgres.connection-string = "Nonsense Keyword=1"
        """, "akka.write-behind.storage.postgres.connection-string")]
    [InlineData("""
        akka.write-behind.storage.provider = postgres
        akka.write-behind.storage.postgres { connection-string = "Host=x", max-pool-size = 0 }
        """, "akka.write-behind.storage.postgres.max-pool-size")]
    public void Should_refuse_an_incomplete_storage_section_naming_the_key(string hocon, string key)
    {
        var error = Assert.Throws<ConfigurationException>(() => CounterStores.FromConfig(ConfigurationFactory.ParseString(hocon)));

        Assert.Contains(key, error.Message);
    }

    [Fact]
    public void Should_render_the_storage_options()
    {
        var config = new WriteBehindCountersOptions
        {
            StorageProvider = StorageProvider.Postgres,
            ConnectionString = PostgresConnectionString,
        }.ToHocon();

        Assert.Equal("postgres", config.GetString("akka.write-behind.storage.provider"));
        Assert.Equal(PostgresConnectionString, config.GetString("akka.write-behind.storage.postgres.connection-string"));
        Assert.Equal("C:\\x.db", new WriteBehindCountersOptions { ConnectionString = "C:\\x.db" }.ToHocon()
            .GetString("akka.write-behind.storage.sqlite.connection-string"));
    }

    [Fact]
    public void Should_configure_the_postgres_journal_with_bounded_connections()
    {
        var config = JournalDurability.PostgresConfig(PostgresConnectionString);

        Assert.Equal("PostgreSQL.15", config.GetString("akka.persistence.journal.sql.provider-name"));
        Assert.True(config.GetBoolean("akka.persistence.journal.sql.auto-initialize"));
        var journalConnection = config.GetString("akka.persistence.journal.sql.connection-string");
        Assert.Contains("Maximum Pool Size=20", journalConnection);
        Assert.True(config.GetInt("akka.persistence.max-concurrent-recoveries") < 20);
        Assert.Contains("Maximum Pool Size=7",
            JournalDurability.PostgresConfig(PostgresConnectionString + ";MaxPoolSize=7").GetString("akka.persistence.journal.sql.connection-string"));
        // the sweep reads the same table through the same connection string
        Assert.NotNull(JournalTable.TryFromConfig(config, "akka.persistence.journal.sql", out _));
    }
}
