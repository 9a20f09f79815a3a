using System.Text.RegularExpressions;
using TokenInjector.Tests.Support;

namespace TokenInjector.Tests.Architecture;

/// <summary>
/// Which namespace of <c>src/Injector</c> uses which, read from the source: each file's <c>using TokenInjector.X</c>
/// lines and its fully-qualified <c>TokenInjector.X.Type</c> references, from the namespace the file declares.
/// Namespaces are named without the <c>TokenInjector.</c> prefix; <c>Program.cs</c> (top-level statements) is "Program".
/// </summary>
internal static partial class NamespaceGraph
{
    public const string Prefix = "TokenInjector.";

    /// <summary>Namespace → the other namespaces of the project it uses.</summary>
    public static IReadOnlyDictionary<string, IReadOnlySet<string>> Read(string sourceDirectory)
    {
        var files = Directory.EnumerateFiles(sourceDirectory, "*.cs", SearchOption.AllDirectories)
            .Where(file => !IsBuildOutput(Path.GetRelativePath(sourceDirectory, file)))
            .Select(file => (Declared: Declared(File.ReadAllText(file)), Text: File.ReadAllText(file)))
            .ToList();
        var known = files.Select(f => f.Declared).ToHashSet(StringComparer.Ordinal);
        var graph = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var (declared, text) in files)
        {
            if (!graph.TryGetValue(declared, out var uses))
            {
                uses = new HashSet<string>(StringComparer.Ordinal);
                graph[declared] = uses;
            }

            var code = WithoutCommentsAndStrings(text);
            var referenced = UsingLine().Matches(code).Select(m => m.Groups["ns"].Value)
                .Concat(QualifiedReference().Matches(code).Select(m => m.Groups["ns"].Value));
            foreach (var name in referenced)
            {
                // "TokenInjector.Configuration.RouteSpec" names namespace Configuration; the longest known prefix wins.
                var target = known.Where(ns => name == ns || name.StartsWith(ns + ".", StringComparison.Ordinal)).MaxBy(ns => ns.Length);
                if (target is not null && target != declared)
                {
                    uses.Add(target);
                }
            }
        }

        return graph.ToDictionary(e => e.Key, e => (IReadOnlySet<string>)e.Value, StringComparer.Ordinal);
    }

    public static IReadOnlyDictionary<string, IReadOnlySet<string>> ReadInjector() => Read(RepositoryFiles.PathOf("src", "Injector"));

    /// <summary>One cycle of the graph as the path that closes it (A → B → A), or null when it has none.</summary>
    public static IReadOnlyList<string>? FindCycle(IReadOnlyDictionary<string, IReadOnlySet<string>> graph)
    {
        var state = new Dictionary<string, bool>(StringComparer.Ordinal); // false: on the current path; true: done
        var path = new List<string>();

        List<string>? Visit(string node)
        {
            if (state.TryGetValue(node, out var done))
            {
                return done ? null : [.. path.Skip(path.IndexOf(node)), node];
            }

            state[node] = false;
            path.Add(node);
            foreach (var next in graph.TryGetValue(node, out var uses) ? uses.Order(StringComparer.Ordinal) : Enumerable.Empty<string>())
            {
                if (Visit(next) is { } cycle)
                {
                    return cycle;
                }
            }

            path.RemoveAt(path.Count - 1);
            state[node] = true;
            return null;
        }

        return graph.Keys.Order(StringComparer.Ordinal).Select(Visit).FirstOrDefault(cycle => cycle is not null);
    }

    private static bool IsBuildOutput(string relativePath) =>
        relativePath.Split(Path.DirectorySeparatorChar)[0] is "obj" or "bin";

    private static string Declared(string text) =>
        NamespaceLine().Match(text) is { Success: true } match ? match.Groups["ns"].Value : "Program";

    // A name inside a string or a comment is not a reference ("TokenInjector.WebhookRole.IsBuiltIn" is a switch name).
    private static string WithoutCommentsAndStrings(string text) => CommentOrString().Replace(text, " ");

    [GeneratedRegex(@"^namespace TokenInjector\.(?<ns>[A-Za-z.]+);", RegexOptions.Multiline)]
    private static partial Regex NamespaceLine();

    [GeneratedRegex(@"^\s*(?:global\s+)?using\s+(?:static\s+)?(?:\w+\s*=\s*)?TokenInjector\.(?<ns>[A-Za-z.]+)\s*;", RegexOptions.Multiline)]
    private static partial Regex UsingLine();

    [GeneratedRegex(@"(?<![\w.])(?:global::)?TokenInjector\.(?<ns>[A-Z][A-Za-z]*(?:\.[A-Z][A-Za-z]*)*)")]
    private static partial Regex QualifiedReference();

    [GeneratedRegex(@"//[^\n]*|/\*.*?\*/|@""(?:[^""]|"""")*""|""""""[\s\S]*?""""""|""(?:\\.|[^""\\\n])*""|'(?:\\.|[^'\\\n])'", RegexOptions.Singleline)]
    private static partial Regex CommentOrString();
}
