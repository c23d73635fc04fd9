using Akka.Configuration;
using Akka.TestKit;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Support;

/// <summary>
/// A TestKit on the TestKit's <see cref="TestScheduler"/>: Akka timers fire when a spec advances virtual time, never on their
/// own, so a spec of a timer waits no wall-clock time for it and can show that it does not fire a moment early.
/// </summary>
public abstract class VirtualTimeSpecBase(string config, ITestOutputHelper output) : Akka.TestKit.Xunit2.TestKit(
    ConfigurationFactory.ParseString(config).WithFallback(VirtualTimeConfig), output: output)
{
    /// <summary>How long a spec waits for a message that is due (generous: the machine is shared).</summary>
    protected static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    /// <summary>How long a spec watches for a message that must not come (real time: nothing advances the clock meanwhile).</summary>
    protected static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(300);

    /// <summary>A step of virtual time well under any timer's period: "not before" is asserted one step early.</summary>
    protected static readonly TimeSpan Step = TimeSpan.FromMilliseconds(1);

    private static readonly Config VirtualTimeConfig = ConfigurationFactory.ParseString("""
        akka.scheduler.implementation = "Akka.TestKit.TestScheduler, Akka.TestKit"
        akka.actor.serialize-messages = off
        """).WithFallback(WriteBehindConfig.DefaultConfig());

    /// <summary>Moves virtual time on; the timers due by then fire on this thread.</summary>
    protected void Advance(TimeSpan by) => ((TestScheduler)Sys.Scheduler).Advance(by);
}
