using System.CommandLine;

namespace TokenInjector.Configuration;

/// <summary>How an option takes its value.</summary>
internal enum OptionKind
{
    /// <summary><c>--name VALUE</c>, at most once.</summary>
    Single,

    /// <summary><c>--name VALUE</c>, given again for each value (comma-separated in the environment).</summary>
    Repeatable,

    /// <summary>A boolean: <c>--name</c> alone means true, or <c>--name true|false</c>.</summary>
    Switch,
}

/// <summary>
/// One command-line option, defined once. The same spec names the flag (<c>--name</c>), the environment variable
/// (<c>TOKEN_INJECTOR_NAME</c>) and the config-file key (<c>name</c>), gives System.CommandLine what it parses and
/// prints in <c>--help</c>, and writes the option into another process's command line (<see cref="Argument"/>), so
/// the three sources, the help, the README and the webhook's sidecar arguments cannot drift apart.
/// </summary>
internal sealed class OptionSpec
{
    public const string EnvironmentPrefix = "TOKEN_INJECTOR_";

    public OptionSpec(string name, string valueName, string help, OptionKind kind = OptionKind.Single, string? defaultValue = null)
    {
        Name = name;
        ValueName = valueName;
        Help = help;
        Kind = kind;
        Default = defaultValue;
        if (kind == OptionKind.Repeatable)
        {
            Definition = new Option<string[]>(Flag) { Description = help + " (repeatable)", HelpName = valueName, Arity = ArgumentArity.ZeroOrMore };
            return;
        }

        // A missing value is left to ParsedOptions' reader, which reports it in the words every other error uses.
        var single = new Option<string>(Flag) { Description = help, HelpName = valueName, Arity = ArgumentArity.ZeroOrOne };
        if (defaultValue is not null)
        {
            single.DefaultValueFactory = _ => defaultValue;
        }

        Definition = single;
    }

    /// <summary>The option name without dashes: the config-file key.</summary>
    public string Name { get; }

    /// <summary>What the value looks like, as help shows it (<c>PATH</c>, <c>true|false</c>).</summary>
    public string ValueName { get; }

    public string Help { get; }

    public OptionKind Kind { get; }

    /// <summary>The value when no source gives one, as text; null for none.</summary>
    public string? Default { get; }

    public bool Repeatable => Kind == OptionKind.Repeatable;

    public string Flag => "--" + Name;

    public string EnvironmentVariable => EnvironmentPrefix + Name.Replace('-', '_').ToUpperInvariant();

    /// <summary>The System.CommandLine option: what the command line is parsed with and help is written from.</summary>
    public Option Definition { get; }

    /// <summary>A boolean option, given as <c>--name</c> or <c>--name true|false</c>.</summary>
    public static OptionSpec Switch(string name, string help, bool defaultValue) =>
        new(name, "true|false", help, OptionKind.Switch, defaultValue ? "true" : "false");

    /// <summary>This option with <paramref name="value"/> as one command-line argument (<c>--name=value</c>).</summary>
    public string Argument(string value) => Flag + "=" + value;
}
