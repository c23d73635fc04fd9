using Akka.WriteBehind.Tests.Host;

namespace Akka.WriteBehind.Tests.Architecture;

/// <summary>
/// The library's layers (docs and DESIGN.md "Shape"): each uses only those below it, features do not use one another,
/// and no folder forms a cycle with another. Read from the compiled assembly's metadata, so a reference through a fully
/// qualified name, a lambda or an async method counts as much as a <c>using</c>.
/// </summary>
public sealed class LayersSpec
{
    private const string Root = "Akka.WriteBehind";

    private static readonly LayerRules Layers = new(
        Root,
        new[] { "", "Internal" },
        new[] { "Queues", "Sql" },
        new[] { "Counters", "Batches", "Refresh" },
        new[] { "CallGroups" },
        new[] { "Hosting" });

    [Fact]
    public void Should_keep_every_reference_of_the_library_inside_the_layer_order()
    {
        var assembly = typeof(WriteBehindConfig).Assembly;
        var edges = TypeReferences.Read(assembly.Location, Root);
        var types = assembly.GetTypes().Where(t => t.DeclaringType is null && t.Namespace?.StartsWith(Root, StringComparison.Ordinal) == true)
            .Select(t => t.FullName!).ToList();

        Assert.True(edges.Count > 100, $"only {edges.Count} references were read from the assembly");
        var offences = Layers.Offences(types, edges);
        Assert.True(offences.Count == 0, $"{offences.Count} references break the layers:\n" + string.Join("\n", offences));
    }

    [Fact]
    public void Should_read_references_from_signatures_fields_and_method_bodies()
    {
        var edges = TypeReferences.Read(typeof(LayersSpec).Assembly.Location, "Akka.WriteBehind.Tests.Architecture.Probe");

        Assert.Contains(("Akka.WriteBehind.Tests.Architecture.Probe.Low.FromField", "Akka.WriteBehind.Tests.Architecture.Probe.High.Target"), edges);
        Assert.Contains(("Akka.WriteBehind.Tests.Architecture.Probe.Low.FromBody", "Akka.WriteBehind.Tests.Architecture.Probe.High.Target"), edges);
        Assert.Contains(("Akka.WriteBehind.Tests.Architecture.Probe.Low.FromLambda", "Akka.WriteBehind.Tests.Architecture.Probe.High.Target"), edges);
        Assert.Contains(("Akka.WriteBehind.Tests.Architecture.Probe.Low.FromBase", "Akka.WriteBehind.Tests.Architecture.Probe.High.Target"), edges);
        Assert.Contains(("Akka.WriteBehind.Tests.Architecture.Probe.Low.FromGeneric", "Akka.WriteBehind.Tests.Architecture.Probe.High.Target"), edges);
    }

    [Fact]
    public void Should_report_references_that_run_up_sideways_or_in_a_cycle()
    {
        var rules = new LayerRules("R", new[] { "", "Low" }, new[] { "A", "B" }, new[] { "Top" });
        var edges = new[]
        {
            ("R.Low.X", "R.A.Y"),     // up
            ("R.A.Y", "R.B.Z"),       // sideways
            ("R.Top.T", "R.A.Y"),     // down: fine
            ("R.Low.X", "R.Q"),       // within the lowest layer: fine
            ("R.Other.O", "R.Low.X"), // from a namespace in no layer
        };

        var offences = rules.Offences(new[] { "R.Low.X", "R.A.Y", "R.B.Z", "R.Top.T", "R.Q", "R.Other.O" }, edges);

        Assert.Equal(
            new[]
            {
                "A.Y -> B.Z (sideways between A and B)",
                "Low.X -> A.Y (runs up from Low to A)",
                "Other.O (namespace R.Other is in no layer)",
            },
            offences);
        Assert.Equal(
            new[] { "Other.O -> Low.X (a cycle between Other and Low)", "Low.X -> Other.O (a cycle between Low and Other)" }.Order(),
            rules.Offences(new[] { "R.Low.X", "R.Other.O" }, new[] { ("R.Other.O", "R.Low.X"), ("R.Low.X", "R.Other.O") })
                .Where(o => o.Contains("cycle")).Order());
    }
}
