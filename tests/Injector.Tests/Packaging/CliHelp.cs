using System.Text.RegularExpressions;
using TokenInjector.Commands;

namespace TokenInjector.Tests.Packaging;

/// <summary>
/// The real <c>injector</c> executable (injector.dll next to the test assembly, run with dotnet): its roles (the
/// commands of its System.CommandLine root command), and each role's <c>--help</c>.
/// </summary>
internal static partial class CliHelp
{
    /// <summary>The commands <c>injector</c> dispatches to.</summary>
    public static IReadOnlyList<string> Roles() => [.. InjectorCommandLine.Root.Subcommands.Select(command => command.Name)];

    /// <summary>The options the help text lists, by flag name, with their default when it shows one.</summary>
    public static async Task<IReadOnlyDictionary<string, string?>> OptionsAsync(string role)
    {
        var (exitCode, stdout, stderr) = await RunAsync(role, "--help");
        Assert.True(exitCode == 0, $"injector {role} --help exited {exitCode}: {stderr}");
        var options = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var line in stdout.Split('\n'))
        {
            var match = HelpLine().Match(line);
            if (match.Success)
            {
                var option = match.Groups["name"].Value;
                options[option] = match.Groups["default"].Success ? match.Groups["default"].Value : null;
            }
        }

        Assert.True(options.Count > 0, $"no options found in 'injector {role} --help':\n{stdout}");
        return options;
    }

    /// <summary><c>injector ARGS</c> to its end; settings from the environment must not change what help prints.</summary>
    public static Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(params string[] args) =>
        ChildProcess.RunAssemblyAsync("injector.dll", args);

    [GeneratedRegex(@"^  --(?<name>[a-z0-9][a-z0-9-]*)\b(?:.*\[default: (?<default>.*)\]\s*|.*)$")]
    private static partial Regex HelpLine();
}
