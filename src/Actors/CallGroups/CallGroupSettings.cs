using Akka.Actor;
using Akka.Configuration;
using Akka.WriteBehind.Internal;

namespace Akka.WriteBehind.CallGroups;

/// <summary>
/// Settings of call groups, read once per actor system from <c>akka.write-behind.inflight.call-group</c> (see <c>reference.conf</c>).
/// </summary>
/// <param name="LateReplyGrace">How long a completed group's aggregator stays to absorb the answers of operations it gave up
/// on at the deadline (so they do not become dead letters); it stops earlier once every one is in. <b>Default</b>: 10s.</param>
public sealed record CallGroupSettings(TimeSpan LateReplyGrace)
{
    /// <summary>Path of the section.</summary>
    public const string ConfigPath = "akka.write-behind.inflight.call-group";

    /// <summary>The settings of <paramref name="system"/> (read once, then cached for the system's lifetime).</summary>
    /// <param name="system">The actor system.</param>
    public static CallGroupSettings Get(ActorSystem system) => system.WithExtension<CallGroupSettingsExtension, CallGroupSettingsProvider>().Settings;

    /// <summary>Reads and validates the section.</summary>
    /// <param name="config">The <c>akka.write-behind.inflight.call-group</c> section.</param>
    /// <exception cref="ConfigurationException">A key is missing or out of range; the message names the key.</exception>
    public static CallGroupSettings FromConfig(Config config)
    {
        if (config.IsNullOrEmpty())
            throw new ConfigurationException($"Configuration section {ConfigPath} is missing.");
        var read = new ConfigReader(config, key => $"{ConfigPath}.{key}");
        return new CallGroupSettings(read.PositiveDuration("late-reply-grace"));
    }
}

/// <summary>INTERNAL API: holds the call group settings of one actor system.</summary>
internal sealed class CallGroupSettingsExtension(CallGroupSettings settings) : IExtension
{
    public CallGroupSettings Settings { get; } = settings;
}

/// <summary>INTERNAL API</summary>
internal sealed class CallGroupSettingsProvider : ExtensionIdProvider<CallGroupSettingsExtension>
{
    public override CallGroupSettingsExtension CreateExtension(ExtendedActorSystem system) =>
        new(CallGroupSettings.FromConfig(system.Settings.Config.WithFallback(WriteBehindConfig.DefaultConfig()).GetConfig(CallGroupSettings.ConfigPath)));
}
