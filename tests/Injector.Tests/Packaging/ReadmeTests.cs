using System.Text.RegularExpressions;
using TokenInjector.Tests.Support;

namespace TokenInjector.Tests.Packaging;

/// <summary>
/// README.md's configuration reference against the real executable: for every command of <c>injector</c>, the
/// options its table lists are exactly those <c>injector ROLE --help</c> prints, with the same defaults.
/// </summary>
public sealed partial class ReadmeTests
{
    private static readonly string Readme = File.ReadAllText(RepositoryFiles.PathOf("README.md"));

    public static TheoryData<string> Roles() => [.. CliHelp.Roles()];

    [Fact]
    public void Dispatch_HasTheRolesOfTheDesign()
    {
        Assert.Superset(new HashSet<string> { "sidecar", "token", "webhook" }, CliHelp.Roles().ToHashSet());
    }

    [Fact]
    public async Task TopLevelHelp_ListsEveryRoleOnStdout_AndExitsZero_WhileNoCommandExitsTwo()
    {
        var (helpExit, helpOut, _) = await CliHelp.RunAsync("--help");
        var (bareExit, bareOut, bareErr) = await CliHelp.RunAsync();

        Assert.Equal(0, helpExit);
        Assert.All(CliHelp.Roles(), role => Assert.Contains("  " + role + " ", helpOut, StringComparison.Ordinal));
        Assert.Equal(2, bareExit);
        Assert.Empty(bareOut);
        Assert.Contains("usage: injector", bareErr, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Roles))]
    public async Task ConfigurationReference_ListsExactlyTheOptionsOfHelp(string role)
    {
        var help = await CliHelp.OptionsAsync(role);
        var documented = ReferenceTable(role);

        Assert.Empty(documented.Keys.Except(help.Keys).Select(option => $"README lists --{option}, which 'injector {role} --help' does not"));
        Assert.Empty(help.Keys.Except(documented.Keys).Select(option => $"'injector {role} --help' has --{option}, which the README does not list"));
    }

    [Theory]
    [MemberData(nameof(Roles))]
    public async Task ConfigurationReference_DefaultsMatchHelp(string role)
    {
        var help = await CliHelp.OptionsAsync(role);
        var documented = ReferenceTable(role);

        foreach (var (option, helpDefault) in help)
        {
            Assert.True(documented.TryGetValue(option, out var readmeDefault), $"--{option} missing from the README");
            Assert.True(helpDefault == readmeDefault, $"injector {role} --{option}: help says default '{helpDefault}', README says '{readmeDefault}'");
        }
    }

    [Fact]
    public void ConfigurationReference_HasATableOnlyForRolesOfTheCli()
    {
        var tables = TableHeading().Matches(Readme).Select(m => m.Groups["role"].Value).ToList();

        Assert.NotEmpty(tables);
        Assert.Empty(tables.Except(CliHelp.Roles()));
    }

    [Fact]
    public void Readme_StartsWithTheDemoAndTestCommands()
    {
        var firstCommands = Readme.Split('\n').Where(line => line.StartsWith("scripts/", StringComparison.Ordinal)).Take(2).ToList();

        Assert.Equal(2, firstCommands.Count);
        Assert.StartsWith("scripts/demo ", firstCommands[0], StringComparison.Ordinal);
        Assert.StartsWith("scripts/test ", firstCommands[1], StringComparison.Ordinal);
        Assert.True(File.Exists(RepositoryFiles.PathOf("scripts", "demo")));
        Assert.True(File.Exists(RepositoryFiles.PathOf("scripts", "test")));
        Assert.Contains("scripts/test", File.ReadAllText(RepositoryFiles.PathOf(".ci", "run")), StringComparison.Ordinal);
    }

    /// <summary>Option name → default (null when the Default cell is empty) from the README table of a role.</summary>
    private static Dictionary<string, string?> ReferenceTable(string role)
    {
        var heading = Readme.IndexOf($"### `injector {role}`", StringComparison.Ordinal);
        Assert.True(heading >= 0, $"README has no '### `injector {role}`' configuration table");
        var rows = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var line in Readme[heading..].Split('\n').Skip(1).SkipWhile(l => !l.StartsWith('|')).TakeWhile(l => l.StartsWith('|')))
        {
            var match = OptionRow().Match(line);
            if (match.Success)
            {
                var value = match.Groups["default"].Value.Trim().Trim('`');
                rows[match.Groups["name"].Value] = value.Length == 0 ? null : value;
            }
        }

        Assert.True(rows.Count > 0, $"README's table for injector {role} has no option rows");
        return rows;
    }

    // | `--name VALUE` | `TOKEN_INJECTOR_NAME` | `default` | description |
    [GeneratedRegex(@"^\| `--(?<name>[a-z0-9][a-z0-9-]*)[^`]*` \| [^|]* \| (?<default>[^|]*) \|")]
    private static partial Regex OptionRow();

    [GeneratedRegex(@"^### `injector (?<role>[a-z-]+)`", RegexOptions.Multiline)]
    private static partial Regex TableHeading();
}
