using Akka.Actor;

namespace Akka.WriteBehind.Internal;

/// <summary>INTERNAL API</summary>
internal static class ReplyExtensions
{
    /// <summary>
    /// Whether a reply to <paramref name="sender"/> reaches anybody: a Tell with <c>ActorRefs.NoSender</c> arrives with dead
    /// letters as sender, and replying there would only fill the dead-letter log.
    /// </summary>
    public static bool CanReceiveReplies(this IActorRef? sender) =>
        !sender.IsNobody() && sender is not DeadLetterActorRef;
}
