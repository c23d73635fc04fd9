using System.Globalization;
using System.Text.RegularExpressions;

namespace Akka.WriteBehind.Tests.Support;

/// <summary>One sample line of the Prometheus text format.</summary>
internal sealed record PrometheusSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

/// <summary>
/// A strict reader of the Prometheus text exposition format 0.0.4: every line is blank, <c># HELP name text</c>,
/// <c># TYPE name counter|gauge|histogram|summary|untyped</c>, another comment, or a sample
/// <c>name{label="value",...} value [timestamp]</c>; a family's TYPE comes before its samples and only once; histogram
/// samples are <c>_bucket</c> (with <c>le</c>), <c>_sum</c> and <c>_count</c>. Any other line fails the parse.
/// </summary>
internal static partial class PrometheusText
{
    public static (IReadOnlyDictionary<string, string> Types, IReadOnlyList<PrometheusSample> Samples) Parse(string text)
    {
        var types = new Dictionary<string, string>(StringComparer.Ordinal);
        var helps = new HashSet<string>(StringComparer.Ordinal);
        var samples = new List<PrometheusSample>();
        var lineNumber = 0;
        foreach (var line in text.Split('\n'))
        {
            lineNumber++;
            if (line.Length == 0)
                continue;
            if (line.StartsWith('#'))
            {
                var comment = CommentLine().Match(line);
                if (!comment.Success)
                    continue; // a plain comment
                var (kind, name, rest) = (comment.Groups[1].Value, comment.Groups[2].Value, comment.Groups[3].Value);
                if (kind == "TYPE")
                {
                    Assert.True(rest is "counter" or "gauge" or "histogram" or "summary" or "untyped", $"line {lineNumber}: unknown type: {line}");
                    Assert.True(types.TryAdd(name, rest), $"line {lineNumber}: second TYPE of {name}");
                    Assert.DoesNotContain(samples, s => Family(s.Name, types) == name);
                }
                else
                {
                    Assert.True(helps.Add(name), $"line {lineNumber}: second HELP of {name}");
                }

                continue;
            }

            var sample = SampleLine().Match(line);
            Assert.True(sample.Success, $"line {lineNumber} is not a Prometheus sample: {line}");
            var labels = new Dictionary<string, string>(StringComparer.Ordinal);
            if (sample.Groups[2].Success && sample.Groups[2].Value.Length > 0)
            {
                var labelText = sample.Groups[2].Value;
                var consumed = 0;
                foreach (Match label in Label().Matches(labelText))
                {
                    Assert.Equal(consumed, label.Index);
                    Assert.True(labels.TryAdd(label.Groups[1].Value, Unescape(label.Groups[2].Value)), $"line {lineNumber}: label {label.Groups[1].Value} twice");
                    consumed = label.Index + label.Length;
                }

                Assert.True(consumed == labelText.Length, $"line {lineNumber}: malformed labels: {labelText}");
            }

            var value = sample.Groups[3].Value switch
            {
                "+Inf" => double.PositiveInfinity,
                "-Inf" => double.NegativeInfinity,
                "NaN" => double.NaN,
                var v => double.Parse(v, NumberStyles.Float, CultureInfo.InvariantCulture),
            };
            var metric = sample.Groups[1].Value;
            var family = Family(metric, types);
            Assert.True(types.ContainsKey(family), $"line {lineNumber}: sample {metric} has no TYPE before it");
            if (types[family] == "histogram")
            {
                Assert.True(metric == family + "_bucket" || metric == family + "_sum" || metric == family + "_count",
                    $"line {lineNumber}: {metric} is not a histogram sample of {family}");
                if (metric.EndsWith("_bucket", StringComparison.Ordinal))
                    Assert.True(labels.ContainsKey("le"), $"line {lineNumber}: bucket without le");
            }

            samples.Add(new PrometheusSample(metric, labels, value));
        }

        Assert.NotEmpty(samples);
        return (types, samples);
    }

    private static string Family(string metric, Dictionary<string, string> types)
    {
        if (types.ContainsKey(metric))
            return metric;
        foreach (var suffix in new[] { "_bucket", "_sum", "_count" })
            if (metric.EndsWith(suffix, StringComparison.Ordinal) && types.ContainsKey(metric[..^suffix.Length]))
                return metric[..^suffix.Length];
        return metric;
    }

    private static string Unescape(string value) => value.Replace("\\n", "\n").Replace("\\\"", "\"").Replace("\\\\", "\\");

    [GeneratedRegex(@"^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) ?(.*)$")]
    private static partial Regex CommentLine();

    [GeneratedRegex(@"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? ([-+]?(?:[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?|Inf|NaN))(?: -?[0-9]+)?$")]
    private static partial Regex SampleLine();

    [GeneratedRegex(@"([a-zA-Z_][a-zA-Z0-9_]*)=""((?:[^""\\]|\\.)*)"",?")]
    private static partial Regex Label();
}
