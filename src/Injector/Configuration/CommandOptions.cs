using System.Text;

namespace TokenInjector.Configuration;

/// <summary>
/// The options of one <c>injector</c> command and how to read them: flags win over environment variables, which
/// win over the <c>--config</c> file, which wins over defaults. Every problem is collected rather than thrown, so a
/// user sees all of them at once.
/// </summary>
internal sealed class CommandOptions(string command, string summary, IReadOnlyList<OptionSpec> options)
{
    public const string ConfigOption = "config";

    public string Command { get; } = command;

    public IReadOnlyList<OptionSpec> Options { get; } = options;

    public ParsedOptions Parse(IReadOnlyList<string> args, Func<string, string?> environment)
    {
        var errors = new List<string>();
        var fromArgs = ReadArguments(args, errors, out var helpRequested);
        var fromEnvironment = ReadEnvironment(environment);
        var fromFile = new Dictionary<string, List<RawValue>>(StringComparer.Ordinal);

        if (Options.Any(o => o.Name == ConfigOption))
        {
            var configPath = Pick(ConfigOption, fromArgs, fromEnvironment, fromFile)?.FirstOrDefault();
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

        return new ParsedOptions(this, merged, errors, helpRequested);
    }

    public OptionSpec? Find(string name) => Options.FirstOrDefault(o => o.Name == name);

    public string HelpText()
    {
        var text = new StringBuilder();
        text.Append("usage: injector ").Append(Command).AppendLine(" [options]");
        text.AppendLine(summary);
        text.AppendLine();
        text.AppendLine("options (each also read from TOKEN_INJECTOR_<NAME>; repeatable ones comma-separated there):");
        foreach (var option in Options)
        {
            var left = $"  {option.Flag} {option.ValueName}";
            // A long value syntax (the route's) must not run into its description.
            text.Append(left.Length < 44 ? left.PadRight(44) : left + "  ");
            text.Append(option.Help);
            if (option.Repeatable)
            {
                text.Append(" (repeatable)");
            }

            if (option.Default is not null)
            {
                text.Append(" [default: ").Append(option.Default).Append(']');
            }

            text.AppendLine();
        }

        return text.ToString();
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

    private Dictionary<string, List<RawValue>> ReadArguments(IReadOnlyList<string> args, List<string> errors, out bool helpRequested)
    {
        helpRequested = false;
        var values = new Dictionary<string, List<RawValue>>(StringComparer.Ordinal);
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg is "--help" or "-h")
            {
                helpRequested = true;
                continue;
            }

            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                errors.Add($"unexpected argument '{ErrorText.Shown(arg)}': options start with -- (see 'injector {Command} --help')");
                continue;
            }

            var equals = arg.IndexOf('=', StringComparison.Ordinal);
            var name = equals < 0 ? arg[2..] : arg[2..equals];
            var option = Find(name);
            if (option is null)
            {
                errors.Add($"unknown option '--{ErrorText.Shown(name)}' (see 'injector {Command} --help')");
                if (equals < 0 && i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal))
                {
                    i++;
                }

                continue;
            }

            string text;
            if (equals >= 0)
            {
                text = arg[(equals + 1)..];
            }
            else if (i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal))
            {
                text = args[++i];
            }
            else
            {
                errors.Add($"{option.Flag}: a value is required ({option.ValueName})");
                continue;
            }

            var list = GetList(values, option.Name);
            if (!option.Repeatable && list.Count > 0)
            {
                errors.Add($"{option.Flag}: given more than once; it takes a single value");
                continue;
            }

            list.Add(new RawValue(text, option.Flag));
        }

        return values;
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
                ? text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                : [text.Trim()];
            GetList(values, option.Name).AddRange(items.Select(item => new RawValue(item, option.EnvironmentVariable)));
        }

        return values;
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
}
