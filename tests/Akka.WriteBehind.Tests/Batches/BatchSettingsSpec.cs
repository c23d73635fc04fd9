using Akka.Configuration;
using Akka.WriteBehind.Batches;
using Akka.WriteBehind.Hosting;
using Akka.WriteBehind.Samples.Accounts;

namespace Akka.WriteBehind.Tests.Batches;

public sealed class BatchSettingsSpec
{
    private static BatchSettings Read(string hocon, string typeName = "things") =>
        BatchSettings.FromConfig(ConfigurationFactory.ParseString(hocon)
            .WithFallback(WriteBehindConfig.DefaultConfig())
            .GetConfig(BatchSettings.ConfigPath), typeName);

    [Fact]
    public void Should_read_the_documented_defaults()
    {
        var settings = Read("");
        Assert.Equal("things", settings.TypeName);
        Assert.Equal(TimeSpan.FromMilliseconds(100), settings.MinDuration);
        Assert.Equal(TimeSpan.FromMilliseconds(200), settings.MaxDuration);
        Assert.Equal(10_000, settings.MaxOperations);
        Assert.False(settings.KeepLoaded);
        Assert.Equal(10_000, settings.MaxPending);
        Assert.Equal(100, settings.NumberOfShards);
        Assert.Equal(TimeSpan.FromSeconds(120), settings.PassivateIdleAfter);
        Assert.Equal(TimeSpan.FromSeconds(10), settings.OperationTimeout);
        Assert.Equal(10_000, settings.MaxInFlight);
        Assert.Equal(500, settings.SaveMany.MaxKeys);
        Assert.Equal(TimeSpan.FromMilliseconds(5), settings.SaveMany.MaxDelay);
        Assert.Equal(TimeSpan.FromMinutes(10), settings.Idempotency.Window);
        Assert.Equal(1_000_000, settings.Idempotency.MaxRemembered);
    }

    [Fact]
    public void Should_take_a_type_section_over_the_defaults_of_every_type()
    {
        const string hocon = """
            akka.write-behind.batches {
              min-duration = 50ms
              max-operations = 7
              types.things { min-duration = 1s, keep-loaded = on }
            }
            """;
        var things = Read(hocon);
        Assert.Equal(TimeSpan.FromSeconds(1), things.MinDuration);
        Assert.Equal(TimeSpan.FromSeconds(2), things.MaxDuration); // auto follows the type's own min-duration
        Assert.True(things.KeepLoaded);
        Assert.Equal(7, things.MaxOperations);

        var others = Read(hocon, "others");
        Assert.Equal(TimeSpan.FromMilliseconds(50), others.MinDuration);
        Assert.Equal(TimeSpan.FromMilliseconds(100), others.MaxDuration);
        Assert.False(others.KeepLoaded);
    }

    [Fact]
    public void Should_take_a_zero_save_many_delay_as_grouping_only_while_busy() =>
        Assert.Equal(TimeSpan.Zero, Read("akka.write-behind.batches.save-many.max-delay = 0s").SaveMany.MaxDelay);

    [Theory]
    [InlineData("akka.write-behind.batches.min-duration = 0s", "akka.write-behind.batches.min-duration")]
    [InlineData("akka.write-behind.batches.types.things.max-duration = 50ms", "akka.write-behind.batches.types.things.max-duration")]
    [InlineData("akka.write-behind.batches.types.things.max-operations = 0", "akka.write-behind.batches.types.things.max-operations")]
    [InlineData("akka.write-behind.batches.max-pending = -1", "akka.write-behind.batches.max-pending")]
    [InlineData("akka.write-behind.batches.keep-loaded = maybe", "akka.write-behind.batches.keep-loaded")]
    [InlineData("akka.write-behind.batches.types.things.save-many.max-delay = 60ms", "akka.write-behind.batches.types.things.save-many.max-delay")]
    [InlineData("akka.write-behind.batches.save-many.max-delay = -1ms", "akka.write-behind.batches.save-many.max-delay")]
    [InlineData("akka.write-behind.batches.operation-timeout = soon", "akka.write-behind.batches.operation-timeout")]
    [InlineData("akka.write-behind.batches.idempotency.window = 0s", "akka.write-behind.batches.idempotency.window")]
    [InlineData("akka.write-behind.batches.types.things.idempotency.max-remembered = 0", "akka.write-behind.batches.types.things.idempotency.max-remembered")]
    public void Should_refuse_invalid_values_naming_the_key(string hocon, string key)
    {
        var ex = Assert.Throws<ConfigurationException>(() => Read(hocon));
        Assert.Contains(key, ex.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("Accounts")]
    [InlineData("with.dot")]
    [InlineData("-dash-first")]
    public void Should_refuse_a_type_name_that_is_no_plain_hocon_key(string typeName)
    {
        var ex = Assert.Throws<ConfigurationException>(() => Read("", typeName));
        Assert.Contains("type name", ex.Message);
    }

    [Fact]
    public void Should_render_hosting_options_into_the_type_section()
    {
        var options = new WriteBehindBatchesOptions<Account>
        {
            TypeName = AccountOperations.TypeName,
            MinDuration = TimeSpan.FromMilliseconds(250),
            MaxOperations = 64,
            KeepLoaded = true,
            PassivateIdleAfter = TimeSpan.Zero,
            IdempotencyWindow = TimeSpan.FromMinutes(2),
            IdempotencyMaxRemembered = 500,
        };
        var config = options.ToHocon().WithFallback(WriteBehindConfig.DefaultConfig());

        var accounts = BatchSettings.FromConfig(config.GetConfig(BatchSettings.ConfigPath), AccountOperations.TypeName);
        Assert.Equal(TimeSpan.FromMilliseconds(250), accounts.MinDuration);
        Assert.Equal(TimeSpan.FromMilliseconds(500), accounts.MaxDuration);
        Assert.Equal(64, accounts.MaxOperations);
        Assert.True(accounts.KeepLoaded);
        Assert.Null(accounts.PassivateIdleAfter);
        Assert.Equal(TimeSpan.FromMinutes(2), accounts.Idempotency.Window);
        Assert.Equal(500, accounts.Idempotency.MaxRemembered);

        // other types keep the defaults
        Assert.Equal(TimeSpan.FromMilliseconds(100), BatchSettings.FromConfig(config.GetConfig(BatchSettings.ConfigPath), "carts").MinDuration);
    }
}
