using System.Text.RegularExpressions;
using TokenInjector.Tests.Support;

namespace TokenInjector.Tests.Packaging;

/// <summary>
/// The docs that describe the code name only what exists: every file path they put in backticks is in the repository,
/// and every code name (a type, member or setting in PascalCase) is one the code uses, unless the doc names it as
/// someone else's (the runtime's internals that docs/PROXY-COST.md traces a call through). A rename that leaves a doc
/// behind fails here.
/// </summary>
public sealed partial class DocumentedNamesTests
{
    public static TheoryData<string> Docs => ["README.md", "docs/ARCHITECTURE.md", "docs/PROXY-COST.md"];

    /// <summary>Names the docs take from the .NET runtime, Kestrel and the OS, which our code never spells out.</summary>
    private static readonly HashSet<string> OthersNames =
    [
        "Dispatch", "Http2Connection", "Http2FrameWriter", "HttpForwarder", "LowLevelLifoSemaphore", "LowLevelLock",
        "LowLevelSpinWaiter", "PortableThreadPool", "ProcessIncomingFramesAsync", "ProcessOutgoingFramesAsync", "RequestWorker",
        "SendHeadersAsync", "SocketAsyncEngine", "StreamCopyHttpContent", "ThreadPoolWorkQueue", "UnsafePreferInlineScheduling",
        "UnsafeQueueUserWorkItem", "WaitAndAcquire", "WaitSubsystem", "Yield", "ImagePullBackOff",
    ];

    /// <summary>Where a doc's relative paths start: the repository, the injector's folders, a project's folders, the tests', the chart's.</summary>
    private static readonly string[] PathBases =
        [string.Empty, "src/Injector", "tests/Injector.Tests", "charts/token-injector", "charts/token-injector/templates",
         .. Directory.GetDirectories(RepositoryFiles.PathOf("src")).Select(d => "src/" + Path.GetFileName(d))];

    private static readonly Lazy<HashSet<string>> CodeWords = new(() =>
    {
        var words = new HashSet<string>(StringComparer.Ordinal);
        foreach (var root in new[] { "src", "bench", "tests" })
        {
            foreach (var file in Directory.EnumerateFiles(RepositoryFiles.PathOf(root), "*.*", SearchOption.AllDirectories)
                .Where(f => f.EndsWith(".cs", StringComparison.Ordinal) || f.EndsWith(".csproj", StringComparison.Ordinal))
                .Where(f => !f.Contains("/bin/", StringComparison.Ordinal) && !f.Contains("/obj/", StringComparison.Ordinal))
                .Where(f => Path.GetFileName(f) != nameof(DocumentedNamesTests) + ".cs")) // its own list is no evidence
            {
                words.UnionWith(Word().Matches(File.ReadAllText(file)).Select(m => m.Value));
            }
        }

        words.UnionWith(Word().Matches(File.ReadAllText(RepositoryFiles.PathOf("Directory.Build.props"))).Select(m => m.Value));
        return words;
    });

    [Theory]
    [MemberData(nameof(Docs))]
    public void EveryPathTheDocNames_Exists(string doc)
    {
        var missing = InlineCode(doc).Where(IsPath)
            .Where(path => !PathBases.Any(start => Path.Exists(RepositoryFiles.PathOf([.. start.Split('/', StringSplitOptions.RemoveEmptyEntries), .. path.Split('/', StringSplitOptions.RemoveEmptyEntries)]))))
            .Distinct().ToList();

        Assert.True(missing.Count == 0, $"{doc} names paths that do not exist: {string.Join(", ", missing)}");
    }

    [Theory]
    [MemberData(nameof(Docs))]
    public void EveryCodeNameTheDocUses_IsInTheCode(string doc)
    {
        var missing = InlineCode(doc).Select(code => CodeName().Match(code)).Where(m => m.Success)
            .SelectMany(m => m.Groups["name"].Value.Split('.'))
            .Where(name => !CodeWords.Value.Contains(name) && !OthersNames.Contains(name) && !IsPlaceholder(name))
            .Distinct().ToList();

        Assert.True(missing.Count == 0, $"{doc} names code that does not exist (renamed or removed?): {string.Join(", ", missing)}");
    }

    [Fact]
    public void OthersNames_AreNotOurs()
    {
        // An entry that our code does use would hide a stale name of ours: keep the list to what it says it is.
        Assert.Equal([], OthersNames.Where(CodeWords.Value.Contains));
    }

    // The inline code spans of a doc, outside its fenced blocks (commands and examples, not names of the code).
    private static IEnumerable<string> InlineCode(string doc)
    {
        var inFence = false;
        foreach (var line in File.ReadLines(RepositoryFiles.PathOf(doc.Split('/'))))
        {
            if (line.TrimStart().StartsWith("```", StringComparison.Ordinal))
            {
                inFence = !inFence;
                continue;
            }

            if (!inFence)
            {
                foreach (Match span in Span().Matches(line))
                {
                    yield return span.Groups["code"].Value;
                }
            }
        }
    }

    private static bool IsPath(string code) =>
        PathLike().IsMatch(code) && !code.Split('/').Any(IsPlaceholder) && !code.Contains("://", StringComparison.Ordinal);

    // DIR, HOST, OUT_DIR: words a reader replaces.
    private static bool IsPlaceholder(string part) => part.Length > 1 && part.All(c => char.IsAsciiLetterUpper(c) || c == '_' || char.IsAsciiDigit(c));

    [GeneratedRegex("`(?<code>[^`]+)`")]
    private static partial Regex Span();

    [GeneratedRegex(@"^(?:(?:scripts|src|docs|charts|tests|bench|k8s|\.github|\.ci)/[\w./-]*|[\w.-]+(?:/[\w.-]+)*\.(?:cs|md|sh|yaml|yml|json|tpl|txt|proto|py|csproj))$")]
    private static partial Regex PathLike();

    [GeneratedRegex(@"^(?<name>[A-Z][A-Za-z0-9]+(?:\.[A-Z][A-Za-z0-9]+)*)(?:\(\))?$")]
    private static partial Regex CodeName();

    [GeneratedRegex(@"[A-Za-z_][A-Za-z0-9_]*")]
    private static partial Regex Word();
}
