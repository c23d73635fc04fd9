using Akka.Actor;
using Akka.Event;

namespace Akka.WriteBehind.Host.Observability;

/// <summary>
/// Subscribed to the actor system's event stream: every <see cref="Warning"/> and <see cref="Error"/> log event of the node
/// (store failures, flush failures, failed loads and saves, ...) goes into <see cref="RecentErrors"/>. Nothing on the
/// request path logs below warning, so this never sees a line per increment.
/// </summary>
public sealed class ErrorLogListener : ReceiveActor
{
    /// <summary>Creates the listener.</summary>
    /// <param name="errors">Where the events go.</param>
    public ErrorLogListener(RecentErrors errors)
    {
        Receive<Warning>(w => errors.Add("warning", w.LogSource, Text(w)));
        Receive<Error>(e => errors.Add("error", e.LogSource, e.Cause is null ? Text(e) : $"{Text(e)} ({e.Cause.GetBaseException().Message})"));
    }

    /// <summary>Props of the listener.</summary>
    /// <param name="errors">Where the events go.</param>
    public static Props Props(RecentErrors errors) => Akka.Actor.Props.Create(() => new ErrorLogListener(errors));

    private static string Text(LogEvent e) => e.Message?.ToString() ?? "";
}

/// <summary>Starts the <see cref="ErrorLogListener"/> of a node.</summary>
public static class RecentErrorsSubscription
{
    /// <summary>Starts a listener and subscribes it to warnings and errors of <paramref name="system"/>.</summary>
    /// <param name="system">The node's actor system.</param>
    /// <param name="errors">Where the events go.</param>
    public static IActorRef Start(ActorSystem system, RecentErrors errors)
    {
        var listener = system.ActorOf(ErrorLogListener.Props(errors), "recent-errors");
        system.EventStream.Subscribe(listener, typeof(Warning));
        system.EventStream.Subscribe(listener, typeof(Error));
        return listener;
    }
}
