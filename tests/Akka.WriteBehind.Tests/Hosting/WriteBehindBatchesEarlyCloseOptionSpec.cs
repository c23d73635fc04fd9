using Akka.WriteBehind.Batches;
using Akka.WriteBehind.Hosting;
using Akka.WriteBehind.Samples.Accounts;

namespace Akka.WriteBehind.Tests.Hosting;

/// <summary>The Akka.Hosting option of early-close lands in the type's HOCON section.</summary>
public sealed class WriteBehindBatchesEarlyCloseOptionSpec
{
    [Fact]
    public void Should_render_early_close_into_the_types_section()
    {
        var on = new WriteBehindBatchesOptions<Account> { TypeName = "accounts", EarlyClose = true }.ToHocon()
            .WithFallback(WriteBehindConfig.DefaultConfig());
        var unset = new WriteBehindBatchesOptions<Account> { TypeName = "accounts" }.ToHocon()
            .WithFallback(WriteBehindConfig.DefaultConfig());

        Assert.True(BatchSettings.FromConfig(on.GetConfig(BatchSettings.ConfigPath), "accounts").EarlyClose);
        Assert.False(BatchSettings.FromConfig(unset.GetConfig(BatchSettings.ConfigPath), "accounts").EarlyClose);
    }
}
