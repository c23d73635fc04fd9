using Akka.Actor;
using Akka.Event;
using Akka.WriteBehind.Internal;

namespace Akka.WriteBehind.Refresh;

/// <summary>
/// INTERNAL API
/// <para>
/// The refresh cache's node-local entry point (<see cref="RefreshRegion"/>): refuses commands with an invalid id
/// (<see cref="ErrorCode.InvalidKey"/>) or item (<see cref="ErrorCode.InvalidArgument"/>) at once, and forwards the rest to
/// the item shard region with the caller as sender (the region's key extractor would drop an id it cannot route).
/// </para>
/// </summary>
internal sealed class RefreshFrontActor : ReceiveActor
{
    private readonly ILoggingAdapter _log = Context.GetLogger();

    public RefreshFrontActor(IActorRef region)
    {
        Receive<IRefreshCommand>(command =>
        {
            var error = Validate(command);
            if (error is null)
            {
                region.Forward(command);
                return;
            }

            if (Sender.CanReceiveReplies())
                Sender.Tell(error);
            else
                _log.Warning("Refresh command refused: {0}", error);
        });
    }

    public static Props Props(IActorRef region) => Akka.Actor.Props.Create(() => new RefreshFrontActor(region));

    /// <summary>Why <paramref name="command"/> is refused, or <c>null</c> when it is acceptable.</summary>
    internal static RefreshRejected? Validate(IRefreshCommand command)
    {
        if (command is null)
            return new RefreshRejected("", ErrorCode.InvalidArgument, "the command is null");
        var item = command switch
        {
            GetOrCreateItem c => c.Item,
            PutItem c => c.Item,
            UpdateItem c => c.Item,
            _ => null,
        };
        if (item is null && command is GetOrCreateItem or PutItem or UpdateItem)
            return new RefreshRejected("", ErrorCode.InvalidArgument, "the item is null");
        var key = command.Key;
        if (!KeyRules.TryValidate(key, out var why))
            return new RefreshRejected(key ?? "", ErrorCode.InvalidKey, why!);
        if (item is { State: null })
            return new RefreshRejected(key!, ErrorCode.InvalidArgument, "the item's state must not be null");
        return null;
    }
}
