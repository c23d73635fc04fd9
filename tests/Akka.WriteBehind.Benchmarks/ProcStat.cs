using System.Globalization;

namespace Akka.WriteBehind.Benchmarks;

/// <summary>
/// Machine-wide CPU time from the first line of <c>/proc/stat</c>, in clock ticks (USER_HZ, 100 per second on Linux).
/// Outside load over a window = (busy time of the machine − CPU time of this process) / (capacity of all cores).
/// </summary>
internal readonly record struct ProcStat(long Busy, long Total)
{
    private const double TicksPerSecond = 100;

    public static bool Available => File.Exists("/proc/stat");

    public static ProcStat Read()
    {
        if (!Available)
            return default;
        var fields = File.ReadLines("/proc/stat").First()
            .Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Skip(1)
            .Take(8) // user nice system idle iowait irq softirq steal (guest is already in user)
            .Select(f => long.Parse(f, CultureInfo.InvariantCulture))
            .ToArray();
        var total = fields.Sum();
        var idle = fields[3] + fields[4];
        return new ProcStat(total - idle, total);
    }

    /// <summary>Fraction of the machine's capacity (all cores) used by other processes between two readings; <c>null</c> without <c>/proc/stat</c>.</summary>
    public static double? OutsideLoad(ProcStat before, ProcStat after, TimeSpan ownCpu)
    {
        var total = after.Total - before.Total;
        if (!Available || total <= 0)
            return null;
        var busySeconds = (after.Busy - before.Busy) / TicksPerSecond;
        return Math.Clamp((busySeconds - ownCpu.TotalSeconds) / (total / TicksPerSecond), 0, 1);
    }
}
