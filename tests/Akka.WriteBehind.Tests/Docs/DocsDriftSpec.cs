using System.Diagnostics.Metrics;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using Akka.Configuration;
using Akka.Configuration.Hocon;
using Akka.WriteBehind.Host;
using Akka.WriteBehind.Tests.Host;

namespace Akka.WriteBehind.Tests.Docs;

/// <summary>The reference tables of <c>docs/</c> against the code they describe, so that they cannot drift apart.</summary>
public sealed class DocsDriftSpec
{
    private static string Doc(string name) => File.ReadAllText(Path.Combine(HostProcess.RepositoryRoot(), "docs", name));

    [Fact]
    public void Configuration_reference_lists_every_key_of_reference_conf_with_its_default()
    {
        var expected = new SortedDictionary<string, string>(StringComparer.Ordinal);
        Flatten(WriteBehindConfig.DefaultConfig().GetConfig("akka.write-behind").Root, "akka.write-behind", expected);

        var documented = new SortedDictionary<string, string>(StringComparer.Ordinal);
        string? section = null;
        foreach (var line in Doc("configuration.md").Split('\n'))
        {
            if (Regex.Match(line, @"^### `(akka\.write-behind\.[a-z.-]+)`") is { Success: true } heading)
                section = heading.Groups[1].Value;
            else if (section is not null && Regex.Match(line, @"^\| `([a-z0-9.-]+)` \| `([^`]*)` \|") is { Success: true } row)
                documented[section + "." + row.Groups[1].Value] = row.Groups[2].Value == "\"\"" ? "" : row.Groups[2].Value;
        }

        Assert.True(expected.Count > 50, $"reference.conf read as {expected.Count} keys");
        Assert.Equal(expected, documented);
    }

    [Fact]
    public void Host_options_page_lists_every_option_and_its_environment_variable()
    {
        var rows = Regex.Matches(Doc("host-options.md"), @"^\| `--([a-z-]+)`(?:, `-h`)? \| (?:`(WRITEBEHIND_[A-Z_]+)[^`]*`)? ?\|", RegexOptions.Multiline)
            .ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value);
        Assert.True(HostSettings.OptionNames.Count > 20, "the Host's options");
        Assert.Equal(HostSettings.OptionNames.Append("help").Order(StringComparer.Ordinal), rows.Keys.Order(StringComparer.Ordinal));
        foreach (var option in HostSettings.OptionNames)
            Assert.Equal("WRITEBEHIND_" + option.ToUpperInvariant().Replace('-', '_'), rows[option]);
    }

    [Fact]
    public void Metrics_table_lists_every_instrument_of_the_library()
    {
        // every instrument is a static field of a metrics class: initialise them all, then list what the meter published
        foreach (var type in typeof(WriteBehindMetrics).Assembly.GetTypes())
            if (type.GetFields(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic).Any(f => typeof(Instrument).IsAssignableFrom(f.FieldType)))
                RuntimeHelpers.RunClassConstructor(type.TypeHandle);
        var instruments = new SortedSet<string>(StringComparer.Ordinal);
        using (var listener = new MeterListener())
        {
            listener.InstrumentPublished = (instrument, _) =>
            {
                if (instrument.Meter.Name == WriteBehindMetrics.MeterName)
                    lock (instruments)
                        instruments.Add(instrument.Name);
            };
            listener.Start();
        }

        var documented = new SortedSet<string>(StringComparer.Ordinal);
        foreach (Match row in Regex.Matches(Doc("operations.md"), @"^\| (`akka\.write_behind\.[^|]+)\|", RegexOptions.Multiline))
        {
            var names = Regex.Matches(row.Groups[1].Value, "`([a-z_.]+)`").Select(m => m.Groups[1].Value).ToList();
            var prefix = names[0][..(names[0].LastIndexOf('.') + 1)];
            documented.Add(names[0]);
            foreach (var suffix in names.Skip(1))
                documented.Add(prefix + suffix);
        }

        Assert.True(instruments.Count > 20, $"{instruments.Count} instruments found");
        Assert.Equal(instruments, documented);
    }

    private static void Flatten(HoconValue value, string path, IDictionary<string, string> into)
    {
        if (value.IsObject())
        {
            foreach (var (key, child) in value.GetObject().Items)
                Flatten(child, path + "." + key, into);
        }
        else
            into[path] = value.GetString();
    }
}
