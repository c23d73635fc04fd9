using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace Akka.WriteBehind.Benchmarks;

/// <summary>
/// With <c>WRITEBEHIND_BENCH_ALLOC_TYPES=&lt;file&gt;</c>: samples the round's allocations by type (the runtime's AllocationTick
/// event, one per ~100 KB allocated) and appends the top types per operation to the file, to find what a round allocates.
/// </summary>
internal sealed class AllocationSampler : EventListener
{
    public const string Variable = "WRITEBEHIND_BENCH_ALLOC_TYPES";

    private readonly ConcurrentDictionary<string, long> _bytes = new();
    private volatile bool _on;

    private string _file = "";

    public static AllocationSampler? StartIfAsked() =>
        Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } file ? new AllocationSampler { _on = true, _file = file } : null;

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime")
            EnableEvents(source, EventLevel.Verbose, (EventKeywords)0x1); // GC keyword: AllocationTick
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (!_on || e.EventName is null || !e.EventName.StartsWith("GCAllocationTick", StringComparison.Ordinal) || e.Payload is null)
            return;
        var type = e.PayloadNames!.IndexOf("TypeName") is var t and >= 0 ? e.Payload[t] as string ?? "?" : "?";
        var amount = e.PayloadNames.IndexOf("AllocationAmount64") is var a and >= 0 ? Convert.ToInt64(e.Payload[a]) : 100_000;
        _bytes.AddOrUpdate(type, amount, (_, b) => b + amount);
    }

    public void Report(long operations)
    {
        _on = false;
        var total = _bytes.Values.Sum();
        var lines = new List<string> { $"allocations sampled: {total / (double)Math.Max(1, operations):N0} B/op" };
        foreach (var (type, bytes) in _bytes.OrderByDescending(b => b.Value).Take(30))
            lines.Add($"  {bytes / (double)Math.Max(1, operations),8:N1} B/op  {type}");
        File.AppendAllLines(_file, lines);
    }
}
