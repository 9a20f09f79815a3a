using System.Globalization;
using System.Text.RegularExpressions;
using TokenInjector.Tests.Support;

namespace TokenInjector.Tests.Architecture;

/// <summary>The tables of docs/ARCHITECTURE.md that tests hold the code to.</summary>
internal static partial class ArchitectureDoc
{
    private static readonly string Text = File.ReadAllText(RepositoryFiles.PathOf("docs", "ARCHITECTURE.md"));

    /// <summary>"Layers": folder of <c>src/Injector</c> → the folders it may use.</summary>
    public static IReadOnlyDictionary<string, IReadOnlySet<string>> AllowedUses() => LayerTable("## Layers");

    /// <summary>"The emulators": folder of <c>src/Emulators</c> → the folders it may use.</summary>
    public static IReadOnlyDictionary<string, IReadOnlySet<string>> EmulatorAllowedUses() => LayerTable("## The emulators");

    private static IReadOnlyDictionary<string, IReadOnlySet<string>> LayerTable(string heading)
    {
        var rows = Section(heading).Split('\n').Select(line => LayerRow().Match(line)).Where(m => m.Success).ToList();
        Assert.NotEmpty(rows);
        return rows.ToDictionary(
            m => m.Groups["folder"].Value,
            m => (IReadOnlySet<string>)BacktickedName().Matches(m.Groups["uses"].Value).Select(n => n.Groups["name"].Value).ToHashSet(StringComparer.Ordinal),
            StringComparer.Ordinal);
    }

    /// <summary>"Conventions", logging: folder → the range of its event ids.</summary>
    public static IReadOnlyDictionary<string, (int First, int Last)> EventIdRanges()
    {
        var rows = Section("## Conventions").Split('\n').Select(line => EventIdRow().Match(line)).Where(m => m.Success).ToList();
        Assert.NotEmpty(rows);
        return rows.ToDictionary(
            m => m.Groups["folder"].Value,
            m => (int.Parse(m.Groups["first"].Value, CultureInfo.InvariantCulture), int.Parse(m.Groups["last"].Value, CultureInfo.InvariantCulture)),
            StringComparer.Ordinal);
    }

    private static string Section(string heading)
    {
        var start = Text.IndexOf(heading + "\n", StringComparison.Ordinal);
        Assert.True(start >= 0, $"docs/ARCHITECTURE.md has no '{heading}' section");
        var end = Text.IndexOf("\n## ", start + heading.Length, StringComparison.Ordinal);
        return end < 0 ? Text[start..] : Text[start..end];
    }

    // | `Tokens/` | what lives there | `Configuration` |
    [GeneratedRegex(@"^\| `(?<folder>[A-Za-z]+)/` \|.*\| (?<uses>[^|]*) \|\s*$")]
    private static partial Regex LayerRow();

    [GeneratedRegex(@"`(?<name>[A-Za-z]+)`")]
    private static partial Regex BacktickedName();

    // | 100–199 | `Tokens/` | `TokenCacheLog` |
    [GeneratedRegex(@"^\| (?<first>\d+)–(?<last>\d+) \| `(?<folder>[A-Za-z]+)/`")]
    private static partial Regex EventIdRow();
}
