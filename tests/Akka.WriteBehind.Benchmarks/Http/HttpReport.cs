using System.Globalization;
using System.Text;

namespace Akka.WriteBehind.Benchmarks.Http;

/// <summary>The http scenario's console line, table and target ratios.</summary>
internal static class HttpReport
{
    /// <summary>The issue's targets: (numerator, denominator, at least), on acknowledged increments/s.</summary>
    private static readonly (string Of, string Over, double AtLeast)[] Targets =
    [
        (HttpSystems.HostJournalSingle, HttpSystems.HostMemorySingle, 0.5),
        (HttpSystems.HostJournalSingle, HttpSystems.WriteThrough, 3),
        (HttpSystems.HostJournalFanOut, HttpSystems.WriteThrough, 100),
    ];

    public static string ConsoleLine(RoundResult r)
    {
        var h = r.Http!;
        return string.Create(CultureInfo.InvariantCulture,
            $"   {r.System,-22} round {r.Round}: {r.IngestPerSecond,10:N0} inc/s  {h.RequestsPerSecond,8:N0} req/s  p50 {h.LatencyP50Ms:0.0} ms  p99 {h.LatencyP99Ms:0.0} ms  " +
            $"server {r.CpuMicrosPerIncrement:N1} µs/inc ({h.ServerCores:0.00} cores)  client {h.ClientCpuMicrosPerIncrement:N1} µs/inc  " +
            $"non-2xx {HttpRound.Statuses(h.NonSuccess)}  no answer {h.NoAnswer:N0}  outside {r.OutsideLoad:P0}  stored {r.DatabaseTotal:N0} of {r.Accepted:N0} acknowledged, {r.Sent:N0} sent");
    }

    public static void Table(StringBuilder sb, RoundResult[] rows, Scenario scenario)
    {
        sb.AppendLine("Each round starts the server as its own process on free loopback ports with a fresh data directory, warms it up on other keys (15 s of the round's load; --quick: at most 10 requests a connection in 3 s), " +
                      "then a .NET HttpClient load generator (SocketsHttpHandler, one keep-alive connection per sender, closed loop, Content-Type: application/json) sends for the window. " +
                      "increments/s: acknowledged (a 2xx answer, 202 today, or a fan-out item's 2xx status) ÷ window; CPU: the server process's, per acknowledged increment (cores: its CPU ÷ window); " +
                      "client: the load generator's. After the window the round waits until the database holds every acknowledged increment, stops the server with SIGTERM " +
                      "and verifies per key: acknowledged ≤ stored ≤ sent. Non-2xx: answers by status (fan-out: items); no answer: increments whose request failed or timed out (30 s).");
        sb.AppendLine();
        sb.AppendLine("| system | increments/s | requests/s | p50 ms | p99 ms | server CPU µs/inc | server cores | client CPU µs/inc | non-2xx | no answer | stored = acknowledged | peak MB | outside load |");
        sb.AppendLine("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
        static string F(double v, string format) => v.ToString(format, CultureInfo.InvariantCulture);
        foreach (var system in scenario.Systems)
        {
            var all = rows.Where(r => r.System == system).ToArray();
            var ok = all.Where(r => r.Error is null && r.Http is not null).ToArray();
            if (ok.Length == 0)
            {
                sb.AppendLine(CultureInfo.InvariantCulture, $"| {system} | FAILED: {all.FirstOrDefault()?.Error?.ReplaceLineEndings(" ").Replace("|", "/", StringComparison.Ordinal)} |||||||||||| ");
                continue;
            }

            var outside = ok.Max(r => r.OutsideLoad);
            var nonSuccess = ok.SelectMany(r => r.Http!.NonSuccess).GroupBy(s => s.Key).ToDictionary(g => g.Key, g => g.Sum(s => s.Value));
            sb.Append(CultureInfo.InvariantCulture, $"| {system}{(all.Length > ok.Length ? $" ({all.Length - ok.Length} round(s) FAILED)" : "")}")
                .Append(" | ").Append(Cell(ok.Select(r => r.IngestPerSecond), Si))
                .Append(" | ").Append(Cell(ok.Select(r => r.Http!.RequestsPerSecond), Si))
                .Append(" | ").Append(Cell(ok.Select(r => r.Http!.LatencyP50Ms), v => F(v, "0.0")))
                .Append(" | ").Append(Cell(ok.Select(r => r.Http!.LatencyP99Ms), v => F(v, "0.0")))
                .Append(" | ").Append(Cell(ok.Select(r => r.CpuMicrosPerIncrement), v => F(v, v >= 100 ? "0" : "0.0")))
                .Append(" | ").Append(Cell(ok.Select(r => r.Http!.ServerCores), v => F(v, "0.00")))
                .Append(" | ").Append(Cell(ok.Select(r => r.Http!.ClientCpuMicrosPerIncrement), v => F(v, v >= 100 ? "0" : "0.0")))
                .Append(" | ").Append(HttpRound.Statuses(nonSuccess))
                .Append(" | ").Append(F(ok.Sum(r => r.Http!.NoAnswer), "0"))
                .Append(" | ").Append(string.Join(", ", ok.Select(r => r.DatabaseTotal == r.Accepted ? "yes" : $"{r.DatabaseTotal - r.Accepted:+0;-0} (unanswered)")))
                .Append(" | ").Append(Cell(ok.Select(r => r.PeakWorkingSetMb), v => F(v, "0")))
                .Append(" | ").Append(outside is { } o ? $"{o.ToString("P0", CultureInfo.InvariantCulture)}{(o > Report.OutsideLoadLimit ? " ⚠" : "")}" : "n/a")
                .AppendLine(" |");
        }

        sb.AppendLine();
        sb.AppendLine("| target (increments/s, medians) | measured | wanted | met |");
        sb.AppendLine("|---|--:|--:|:-:|");
        foreach (var (of, over, atLeast) in Targets)
        {
            var ratio = Median(rows, of) / Median(rows, over);
            var measured = double.IsFinite(ratio) ? F(ratio, ratio >= 10 ? "0" : "0.00") + "×" : "–";
            var met = double.IsFinite(ratio) ? ratio >= atLeast ? "yes" : "**no**" : "–";
            sb.AppendLine(CultureInfo.InvariantCulture, $"| {of} ÷ {over} | {measured} | ≥ {atLeast:0.#}× | {met} |");
        }
    }

    private static double Median(RoundResult[] rows, string system) =>
        Report.Median(rows.Where(r => r.System == system && r.Error is null && r.Http is not null).Select(r => r.IngestPerSecond));

    private static string Cell(IEnumerable<double> values, Func<double, string> format) => Report.Cell(values, format);

    private static string Si(double value) => Report.Si(value);
}
