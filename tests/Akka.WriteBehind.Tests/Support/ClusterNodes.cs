using Akka.Actor;

namespace Akka.WriteBehind.Tests.Support;

/// <summary>Ends the nodes of a spec that starts its own actor systems.</summary>
internal static class ClusterNodes
{
    /// <summary>
    /// Stops the nodes still running as an operator would (CoordinatedShutdown: every entity flushes) while their database
    /// still exists, then disposes it.
    /// </summary>
    public static async Task StopAsync(IEnumerable<ActorSystem> nodes, IDisposable database, TimeSpan timeout)
    {
        try
        {
            await Task.WhenAll(nodes.Where(s => !s.WhenTerminated.IsCompleted)
                .Select(s => CoordinatedShutdown.Get(s).Run(CoordinatedShutdown.ClrExitReason.Instance))).WaitAsync(timeout);
        }
        finally
        {
            database.Dispose();
        }
    }
}
