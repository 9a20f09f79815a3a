using TokenInjector.Tests.Support;

namespace TokenInjector.Tests.Architecture;

/// <summary>
/// The layers of <c>src/Injector</c> (docs/ARCHITECTURE.md "Layers") and the folders of <c>src/Emulators</c> ("The
/// emulators") flow one way: no namespace uses, directly or through others, a namespace that uses it.
/// </summary>
public sealed class LayeringTests
{
    [Fact]
    public void InjectorNamespaces_FormNoCycle()
    {
        var graph = NamespaceGraph.ReadInjector();

        Assert.True(graph.Count >= 8, "expected the folders of src/Injector, found: " + string.Join(", ", graph.Keys));
        var cycle = NamespaceGraph.FindCycle(graph);
        Assert.True(cycle is null, "namespace cycle in src/Injector: " + string.Join(" -> ", cycle ?? []));
    }

    [Fact]
    public void EachFolder_UsesOnlyTheFoldersArchitectureMdAllows()
    {
        var allowed = ArchitectureDoc.AllowedUses();
        var graph = NamespaceGraph.ReadInjector();

        Assert.Equal(graph.Keys.Where(ns => ns != "Program").Order(StringComparer.Ordinal), allowed.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(["Commands"], graph["Program"]);
        var forbidden = graph.Where(e => e.Key != "Program")
            .SelectMany(e => e.Value.Except(allowed[e.Key]).Select(used => $"{e.Key} uses {used}"))
            .ToList();
        Assert.True(forbidden.Count == 0, "not allowed by docs/ARCHITECTURE.md \"Layers\": " + string.Join("; ", forbidden));
    }

    [Fact]
    public void EachEmulatorFolder_UsesOnlyTheFoldersArchitectureMdAllows_AndNoneFormACycle()
    {
        const string Root = "Emulators";
        var allowed = ArchitectureDoc.EmulatorAllowedUses();
        var graph = NamespaceGraph.Read(RepositoryFiles.PathOf("src", Root));

        var cycle = NamespaceGraph.FindCycle(graph);
        Assert.True(cycle is null, "namespace cycle in src/Emulators: " + string.Join(" -> ", cycle ?? []));

        // Program.cs and the root's EmulatorsCommand only compose; every other namespace is a folder of the table.
        static string Folder(string ns) => ns.StartsWith(Root + ".", StringComparison.Ordinal) ? ns[(Root.Length + 1)..] : ns;
        var folders = graph.Where(e => e.Key is not ("Program" or Root)).ToDictionary(e => Folder(e.Key), e => e.Value.Select(Folder).ToList(), StringComparer.Ordinal);
        Assert.Equal(folders.Keys.Order(StringComparer.Ordinal), allowed.Keys.Order(StringComparer.Ordinal));
        var forbidden = folders.SelectMany(e => e.Value.Except(allowed[e.Key]).Select(used => $"{e.Key} uses {used}")).ToList();
        Assert.True(forbidden.Count == 0, "not allowed by docs/ARCHITECTURE.md \"The emulators\": " + string.Join("; ", forbidden));
    }

    [Fact]
    public void FindCycle_ReportsTheCycle_AndNothingForALayeredGraph()
    {
        var layered = Graph(("Commands", ["Hosting", "Configuration"]), ("Hosting", ["Tokens"]), ("Tokens", ["Configuration"]), ("Configuration", []));
        var cyclic = Graph(("Commands", ["Hosting"]), ("Hosting", ["Tokens"]), ("Tokens", ["Configuration"]), ("Configuration", ["Hosting"]));

        Assert.Null(NamespaceGraph.FindCycle(layered));
        Assert.Equal(["Hosting", "Tokens", "Configuration", "Hosting"], NamespaceGraph.FindCycle(cyclic));
    }

    [Fact]
    public void Read_CountsUsingsAndQualifiedNames_NotStringsOrComments()
    {
        using var directory = new TempDirectory();
        File.WriteAllText(directory.File("A.cs"), """
            using TokenInjector.Beta;
            namespace TokenInjector.Alpha;
            // TokenInjector.Delta.Thing is only mentioned here.
            internal sealed class A(TokenInjector.Gamma.G g) { private const string Name = "TokenInjector.Delta.Thing"; }
            """);
        File.WriteAllText(directory.File("B.cs"), "namespace TokenInjector.Beta;\ninternal sealed class B;\n");
        File.WriteAllText(directory.File("G.cs"), "namespace TokenInjector.Gamma;\ninternal sealed class G;\n");
        File.WriteAllText(directory.File("D.cs"), "namespace TokenInjector.Delta;\ninternal sealed class Thing;\n");
        File.WriteAllText(directory.File("Program.cs"), "using TokenInjector.Alpha;\nreturn 0;\n");

        var graph = NamespaceGraph.Read(directory.Path);

        Assert.Equal(["Beta", "Gamma"], graph["Alpha"].Order(StringComparer.Ordinal));
        Assert.Equal(["Alpha"], graph["Program"]);
        Assert.Empty(graph["Delta"]);
    }

    private static Dictionary<string, IReadOnlySet<string>> Graph(params (string Name, string[] Uses)[] nodes) =>
        nodes.ToDictionary(n => n.Name, n => (IReadOnlySet<string>)n.Uses.ToHashSet(StringComparer.Ordinal), StringComparer.Ordinal);
}
