namespace Akka.WriteBehind.Benchmarks.Systems;

/// <summary>A system with one-time work of its own that a warm-up sets off after it is durable.</summary>
internal interface IWarmUpSettle
{
    /// <summary>Waits until that work is done, at most <paramref name="limit"/> (the round is measured either way).</summary>
    Task SettleAsync(TimeSpan limit);
}
