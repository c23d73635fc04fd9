// Types the reference reader is tested on: each type in Low names High.Target in one way the compiler hides from a
// reading of usings.
#pragma warning disable CS0169, CS0414, CA1823
namespace Akka.WriteBehind.Tests.Architecture.Probe.High
{
    internal class Target
    {
        public static int Value() => 1;
    }
}

namespace Akka.WriteBehind.Tests.Architecture.Probe.Low
{
    internal sealed class FromField
    {
        private Akka.WriteBehind.Tests.Architecture.Probe.High.Target? _target;
    }

    internal static class FromBody
    {
        public static int Run() => Akka.WriteBehind.Tests.Architecture.Probe.High.Target.Value();
    }

    internal static class FromLambda
    {
        public static Func<int> Run() => () => Akka.WriteBehind.Tests.Architecture.Probe.High.Target.Value() + 1;
    }

    internal sealed class FromBase : Akka.WriteBehind.Tests.Architecture.Probe.High.Target
    {
    }

    internal static class FromGeneric
    {
        public static int Run() => new List<Akka.WriteBehind.Tests.Architecture.Probe.High.Target>().Count;
    }
}
