namespace Akka.WriteBehind.Tests.Architecture;

/// <summary>
/// The library's layer order and the references it forbids. A unit is the first namespace segment under the root
/// (its folder); the root namespace itself is a unit of the lowest layer. A reference may only run down: never to a
/// higher layer, never sideways to another unit of the same layer (so features form no cycles), except within the
/// lowest layer; and never inside a cycle of units, whatever their layers.
/// </summary>
internal sealed class LayerRules
{
    private const string RootUnit = "";
    private readonly string _rootNamespace;
    private readonly Dictionary<string, int> _rank = new(StringComparer.Ordinal);

    /// <param name="rootNamespace">The namespace whose units are layered.</param>
    /// <param name="layers">Units from the lowest layer up; <c>""</c> names the root namespace.</param>
    public LayerRules(string rootNamespace, params string[][] layers)
    {
        _rootNamespace = rootNamespace;
        for (var i = 0; i < layers.Length; i++)
            foreach (var unit in layers[i])
                _rank.Add(unit, i);
    }

    /// <summary>Every offence, one line each, sorted: <c>A.Type -> B.Type (why)</c> or <c>A.Type (why)</c>.</summary>
    public IReadOnlyList<string> Offences(IEnumerable<string> types, IReadOnlyCollection<(string From, string To)> edges)
    {
        var offences = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var type in types.Concat(edges.SelectMany(e => new[] { e.From, e.To })))
            if (!_rank.ContainsKey(Unit(type)))
                offences.Add($"{Short(type)} (namespace {_rootNamespace}.{Unit(type)} is in no layer)");

        var units = edges.Select(e => (From: Unit(e.From), To: Unit(e.To))).Where(e => e.From != e.To).Distinct().ToList();
        var cyclic = CyclicUnits(units);
        foreach (var (from, to) in edges)
        {
            string fromUnit = Unit(from), toUnit = Unit(to);
            if (fromUnit == toUnit)
                continue;
            if (cyclic.TryGetValue(fromUnit, out var a) && cyclic.TryGetValue(toUnit, out var b) && a == b)
                offences.Add($"{Short(from)} -> {Short(to)} (a cycle between {Name(fromUnit)} and {Name(toUnit)})");
            if (!_rank.TryGetValue(fromUnit, out var fromRank) || !_rank.TryGetValue(toUnit, out var toRank))
                continue;
            if (fromRank < toRank)
                offences.Add($"{Short(from)} -> {Short(to)} (runs up from {Name(fromUnit)} to {Name(toUnit)})");
            else if (fromRank == toRank && fromRank > 0)
                offences.Add($"{Short(from)} -> {Short(to)} (sideways between {Name(fromUnit)} and {Name(toUnit)})");
        }

        return offences.ToList();
    }

    /// <summary>The unit a full type name belongs to: its first namespace segment under the root.</summary>
    public string Unit(string fullName)
    {
        var rest = fullName[(_rootNamespace.Length + 1)..];
        var dot = rest.IndexOf('.');
        return dot < 0 ? RootUnit : rest[..dot];
    }

    private string Short(string fullName) => fullName[(_rootNamespace.Length + 1)..];

    private string Name(string unit) => unit == RootUnit ? _rootNamespace : unit;

    // strongly connected components of more than one unit (Tarjan), as unit -> component number
    private static Dictionary<string, int> CyclicUnits(IReadOnlyCollection<(string From, string To)> edges)
    {
        var next = edges.GroupBy(e => e.From).ToDictionary(g => g.Key, g => g.Select(e => e.To).ToList());
        var index = new Dictionary<string, int>();
        var low = new Dictionary<string, int>();
        var stack = new Stack<string>();
        var onStack = new HashSet<string>();
        var result = new Dictionary<string, int>();
        var components = 0;

        void Visit(string v)
        {
            index[v] = low[v] = index.Count;
            stack.Push(v);
            onStack.Add(v);
            foreach (var w in next.GetValueOrDefault(v) ?? new List<string>())
            {
                if (!index.ContainsKey(w))
                {
                    Visit(w);
                    low[v] = Math.Min(low[v], low[w]);
                }
                else if (onStack.Contains(w))
                    low[v] = Math.Min(low[v], index[w]);
            }

            if (low[v] != index[v])
                return;
            var members = new List<string>();
            string u;
            do
            {
                u = stack.Pop();
                onStack.Remove(u);
                members.Add(u);
            } while (u != v);

            if (members.Count > 1)
            {
                foreach (var m in members)
                    result[m] = components;
                components++;
            }
        }

        foreach (var v in edges.SelectMany(e => new[] { e.From, e.To }).Distinct())
            if (!index.ContainsKey(v))
                Visit(v);
        return result;
    }
}
