using Akka.Actor;
using Akka.WriteBehind.Internal;
using Xunit.Abstractions;

namespace Akka.WriteBehind.Tests.Internal;

/// <summary>The cheap comparer of actor references agrees with Akka's own equality, and equal references hash alike.</summary>
public sealed class ActorRefComparerSpec(ITestOutputHelper output) : Akka.TestKit.Xunit2.TestKit(output: output)
{
    private static readonly IEqualityComparer<IActorRef> Comparer = ActorRefComparer.Instance;

    // a reference made from a path alone: two of them to one path are two objects Akka counts as equal
    private sealed class PathRef(ActorPath path, IActorRefProvider provider) : MinimalActorRef
    {
        public override ActorPath Path { get; } = path;

        public override IActorRefProvider Provider { get; } = provider;
    }

    private PathRef RefTo(string path) => new(ActorPath.Parse(path), ((ExtendedActorSystem)Sys).Provider);

    [Fact]
    public void Should_find_a_reference_by_another_object_that_Akka_counts_equal()
    {
        var first = RefTo("akka://spec/user/log#42");
        var second = RefTo("akka://spec/user/log#42");
        Assert.NotSame(first, second);
        Assert.True(first.Equals(second)); // Akka's own equality

        var byRef = new Dictionary<IActorRef, string>(Comparer) { [first] = "log" };

        Assert.True(Comparer.Equals(first, second));
        Assert.Equal(Comparer.GetHashCode(first), Comparer.GetHashCode(second));
        Assert.Equal("log", byRef[second]);
    }

    [Fact]
    public void Should_tell_apart_the_incarnations_of_one_path_and_other_actors()
    {
        var log = RefTo("akka://spec/user/log#42");
        var nextIncarnation = RefTo("akka://spec/user/log#43");
        var other = RefTo("akka://spec/user/other#42");
        var refs = new IActorRef[] { log, nextIncarnation, other, TestActor, ActorRefs.Nobody };

        foreach (var x in refs)
            foreach (var y in refs)
                Assert.Equal(x.Equals(y), Comparer.Equals(x, y));
        Assert.Equal(refs.Length, new HashSet<IActorRef>(refs, Comparer).Count);
        Assert.False(Comparer.Equals(log, null));
        Assert.True(Comparer.Equals(null, null));
    }
}
