using Akka.Configuration;

namespace Akka.WriteBehind;

/// <summary>
/// Access to the library's embedded <c>reference.conf</c> (all defaults under <c>akka.write-behind</c>).
/// </summary>
public static class WriteBehindConfig
{
    private const string ResourceName = "Akka.WriteBehind.reference.conf";
    private static readonly Lazy<Config> Default = new(Load);

    /// <summary>The library defaults. Use as a fallback: <c>myConfig.WithFallback(WriteBehindConfig.DefaultConfig())</c>.</summary>
    public static Config DefaultConfig() => Default.Value;

    private static Config Load()
    {
        using var stream = typeof(WriteBehindConfig).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"Embedded resource {ResourceName} is missing from the Akka.WriteBehind assembly.");
        using var reader = new StreamReader(stream);
        return ConfigurationFactory.ParseString(reader.ReadToEnd());
    }
}
