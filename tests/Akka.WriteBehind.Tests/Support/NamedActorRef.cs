using Akka.Actor;

namespace Akka.WriteBehind.Tests.Support;

/// <summary>A reference to compare, without an actor system: for the pure bookkeeping classes that hold references.</summary>
internal sealed class NamedActorRef(string name) : MinimalActorRef
{
    public override ActorPath Path { get; } = new RootActorPath(Address.AllSystems) / name;

    public override IActorRefProvider Provider => throw new NotSupportedException();
}
