using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Parsing;

namespace TokenInjector.Configuration;

/// <summary>
/// The options of one <c>injector</c> command and how to read them. System.CommandLine parses the command line and
/// writes <c>--help</c>; this class adds what it does not do: the same options from <c>TOKEN_INJECTOR_*</c>
/// environment variables and from a <c>--config</c> file, with flags winning over the environment, which wins over
/// the file, which wins over defaults. Values stay text here, with where each came from, so that one set of typed
/// readers (<see cref="ParsedOptions"/>) validates all three sources alike. Every problem is collected rather than
/// thrown, so a user sees all of them at once.
/// </summary>
internal sealed class CommandOptions
{
    /// <summary>How every <c>injector</c> command line is parsed: <c>@file</c> is a value, not a file of arguments, and <c>-abc</c> is not <c>-a -b -c</c>.</summary>
    public static readonly ParserConfiguration Parsing = new() { ResponseFileTokenReplacer = null, EnablePosixBundling = false };

    /// <summary>What a command's help says after the options, since System.CommandLine knows only the command line.</summary>
    public const string SourcesNote = """
        Every option is also read from TOKEN_INJECTOR_<NAME> (repeatable ones comma- or newline-separated there), and from the
        --config file where the command has --config; flags win over the environment, which wins over the file.
        A true|false option given alone means true. Durations are written 500ms, 30s, 10m or 1h.
        """;

    public CommandOptions(string command, string summary, IReadOnlyList<OptionSpec> options)
    {
        Command = command;
        Options = options;
        Definition = new Command(command, summary) { new HelpOption() };
        foreach (var option in options)
        {
            Definition.Add(option.Definition);
        }
    }

    public string Command { get; }

    public IReadOnlyList<OptionSpec> Options { get; }

    /// <summary>The System.CommandLine command: what <c>injector COMMAND</c> is parsed with.</summary>
    public Command Definition { get; }

    public OptionSpec? Find(string name) => Options.FirstOrDefault(o => o.Name == name);

    /// <summary>Parses this command's own arguments (those after its name) and reads the other sources.</summary>
    public ParsedOptions Parse(IReadOnlyList<string> args, Func<string, string?> environment) =>
        Read(Definition.Parse(args, Parsing), environment);

    /// <summary>Reads every source for a command line that System.CommandLine parsed as this command.</summary>
    public ParsedOptions Read(ParseResult commandLine, Func<string, string?> environment)
    {
        var errors = new List<string>();
        var fromArgs = ReadArguments(commandLine, errors);
        var fromEnvironment = ReadEnvironment(environment);
        var fromFile = new Dictionary<string, List<RawValue>>(StringComparer.Ordinal);

        if (Find(CommonOptions.Config.Name) == CommonOptions.Config)
        {
            var configPath = Pick(CommonOptions.Config.Name, fromArgs, fromEnvironment, fromFile)?.FirstOrDefault();
            if (configPath is not null)
            {
                fromFile = ConfigFileReader.Read(configPath.Text, this, errors);
            }
        }

        var merged = new Dictionary<string, IReadOnlyList<RawValue>>(StringComparer.Ordinal);
        foreach (var option in Options)
        {
            var values = Pick(option.Name, fromArgs, fromEnvironment, fromFile);
            if (values is not null)
            {
                merged[option.Name] = values;
            }
            else if (option.Default is not null)
            {
                merged[option.Name] = [new RawValue(option.Default, "default")];
            }
        }

        return new ParsedOptions(this, merged, errors, helpRequested: commandLine.Action is HelpAction);
    }

    internal static List<RawValue> GetList(Dictionary<string, List<RawValue>> values, string name)
    {
        if (!values.TryGetValue(name, out var list))
        {
            list = [];
            values[name] = list;
        }

        return list;
    }

    private static List<RawValue>? Pick(string name, params Dictionary<string, List<RawValue>>[] sourcesByPrecedence)
    {
        foreach (var source in sourcesByPrecedence)
        {
            if (source.TryGetValue(name, out var values) && values.Count > 0)
            {
                return values;
            }
        }

        return null;
    }

    /// <summary>
    /// The values System.CommandLine found. Its own error messages are not used: each problem it can meet (a missing
    /// value, a single-value option given twice, an unknown word) is told here in the words of every other error.
    /// </summary>
    private Dictionary<string, List<RawValue>> ReadArguments(ParseResult commandLine, List<string> errors)
    {
        var values = new Dictionary<string, List<RawValue>>(StringComparer.Ordinal);
        var told = new HashSet<SymbolResult>();
        foreach (var option in Options)
        {
            if (commandLine.GetResult(option.Definition) is not { Implicit: false } result)
            {
                continue;
            }

            told.Add(result);
            var tokens = result.Tokens.Select(t => t.Value).ToList();
            if (option.Kind == OptionKind.Switch && tokens.Count == 0)
            {
                tokens.Add("true");
            }

            // A value that looks like a flag is the user forgetting one: "--audience --route x" is not an audience.
            if (tokens.Count == 0 || tokens.Any(t => t.StartsWith("--", StringComparison.Ordinal)))
            {
                errors.Add($"{option.Flag}: a value is required ({option.ValueName})");
                continue;
            }

            // Each --name takes at most one value: one that took none is a forgotten value.
            if (option.Repeatable && tokens.Count < result.IdentifierTokenCount)
            {
                errors.Add($"{option.Flag}: a value is required ({option.ValueName})");
                continue;
            }

            if (!option.Repeatable && result.IdentifierTokenCount > 1)
            {
                errors.Add($"{option.Flag}: given more than once; it takes a single value");
                continue;
            }

            GetList(values, option.Name).AddRange(tokens.Select(text => new RawValue(text, option.Flag)));
        }

        ReportUnmatched(commandLine, errors);
        foreach (var error in commandLine.Errors)
        {
            // Errors on an option were told above; errors on the command are the unmatched words, told below.
            var isTold = error.SymbolResult is { } symbol && (told.Contains(symbol) || (symbol is CommandResult && commandLine.UnmatchedTokens.Count > 0));
            if (!isTold)
            {
                errors.Add(error.Message);
            }
        }

        return values;
    }

    /// <summary>Words no option took: an unknown option (with the value after it, which is not reported again) or a stray word.</summary>
    private void ReportUnmatched(ParseResult commandLine, List<string> errors)
    {
        var unmatched = commandLine.UnmatchedTokens;
        for (var i = 0; i < unmatched.Count; i++)
        {
            var token = unmatched[i];
            if (!token.StartsWith("--", StringComparison.Ordinal))
            {
                errors.Add($"unexpected argument '{ErrorText.Shown(token)}': options start with -- (see 'injector {Command} --help')");
                continue;
            }

            var equals = token.IndexOf('=', StringComparison.Ordinal);
            errors.Add($"unknown option '{ErrorText.Shown(equals < 0 ? token : token[..equals])}' (see 'injector {Command} --help')");
            if (equals < 0 && i + 1 < unmatched.Count && !unmatched[i + 1].StartsWith('-') && FollowsInArguments(commandLine, token, unmatched[i + 1]))
            {
                i++;
            }
        }
    }

    private static bool FollowsInArguments(ParseResult commandLine, string first, string second)
    {
        var tokens = commandLine.Tokens;
        for (var i = 0; i + 1 < tokens.Count; i++)
        {
            if (tokens[i].Value == first && tokens[i + 1].Value == second)
            {
                return true;
            }
        }

        return false;
    }

    private Dictionary<string, List<RawValue>> ReadEnvironment(Func<string, string?> environment)
    {
        var values = new Dictionary<string, List<RawValue>>(StringComparer.Ordinal);
        foreach (var option in Options)
        {
            var text = environment(option.EnvironmentVariable);
            if (string.IsNullOrWhiteSpace(text))
            {
                continue;
            }

            var items = option.Repeatable
                ? ListSyntax.Split(text)
                : [text.Trim()];
            GetList(values, option.Name).AddRange(items.Select(item => new RawValue(item, option.EnvironmentVariable)));
        }

        return values;
    }
}
