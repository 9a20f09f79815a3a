using TokenInjector.Configuration;

namespace TokenInjector.Tests.Configuration;

/// <summary>
/// How a command's options are read, in process: System.CommandLine's parse of the flags, the TOKEN_INJECTOR_*
/// environment and the --config file, their precedence, and errors that are all told at once, one line each.
/// </summary>
public sealed class CommandOptionsTests : IDisposable
{
    private static readonly OptionSpec Single = new("socket-mode", "MODE", "a single value", defaultValue: "0660");
    private static readonly OptionSpec Many = new("audience", "AUDIENCE", "a repeatable value", OptionKind.Repeatable);
    private static readonly OptionSpec Switch = OptionSpec.Switch("allow-dynamic-audiences", "a boolean", true);
    private static readonly CommandOptions Command = new("test", "Options to read.", [Single, Many, Switch, CommonOptions.Config]);

    private readonly TempDirectory _directory = new();

    public static TheoryData<string, string[], string?, string?, string> Precedence() => new()
    {
        { "a flag wins over the environment and the file", ["--socket-mode", "0600"], "0640", "0644", "0600" },
        { "the environment wins over the file", [], "0640", "0644", "0640" },
        { "the file wins over the default", [], null, "0644", "0644" },
        { "the default when nothing is given", [], null, null, "0660" },
    };

    [Theory]
    [MemberData(nameof(Precedence))]
    public void Parse_SingleValue_FlagsThenEnvironmentThenFileThenDefault(string name, string[] args, string? environment, string? file, string expected)
    {
        var parsed = Parse(
            [.. args, .. file is null ? Array.Empty<string>() : ["--config", Config($"socket-mode: '{file}'\n")]],
            environment is null ? [] : new() { ["TOKEN_INJECTOR_SOCKET_MODE"] = environment });

        Assert.True(parsed.Errors.Count == 0, name + ": " + string.Join("; ", parsed.Errors));
        Assert.Equal(expected, parsed.String(Single));
    }

    [Fact]
    public void Parse_RepeatableInTheEnvironment_IsCommaSeparated_WhileASingleValueIsNotSplit()
    {
        var parsed = Parse([], new() { ["TOKEN_INJECTOR_AUDIENCE"] = " https://a , https://b,,https://c ", ["TOKEN_INJECTOR_SOCKET_MODE"] = "06,00" });

        Assert.Equal(["https://a", "https://b", "https://c"], parsed.All(Many).Select(v => v.Text));
        Assert.Equal("06,00", parsed.String(Single));
    }

    [Fact]
    public void Parse_RepeatableGivenAsFlags_ReplacesTheEnvironmentsList()
    {
        var parsed = Parse(["--audience", "x", "--audience=y"], new() { ["TOKEN_INJECTOR_AUDIENCE"] = "a,b" });

        Assert.Equal(["x", "y"], parsed.All(Many).Select(v => v.Text));
        Assert.All(parsed.All(Many), value => Assert.Equal("--audience", value.Source));
    }

    [Theory]
    [InlineData("alone", new[] { "--allow-dynamic-audiences" }, true)]
    [InlineData("with false", new[] { "--allow-dynamic-audiences", "false" }, false)]
    [InlineData("with =false", new[] { "--allow-dynamic-audiences=false" }, false)]
    [InlineData("with true before another flag", new[] { "--allow-dynamic-audiences", "true", "--audience", "a" }, true)]
    [InlineData("alone before another flag", new[] { "--allow-dynamic-audiences", "--audience", "a" }, true)]
    [InlineData("absent: its default", new string[0], true)]
    public void Parse_Switch_IsTrueAloneOrTakesTrueOrFalse(string name, string[] args, bool expected)
    {
        var parsed = Parse(args, []);

        Assert.True(expected == parsed.Bool(Switch), name);
        Assert.Empty(parsed.Errors);
    }

    [Fact]
    public void Parse_SwitchFromTheEnvironment_TakesItsValue()
    {
        var parsed = Parse([], new() { ["TOKEN_INJECTOR_ALLOW_DYNAMIC_AUDIENCES"] = "false" });

        Assert.False(parsed.Bool(Switch));
    }

    [Theory]
    [InlineData("yaml", "audience:\n  - https://a\n  - https://b\nsocket-mode: '0600'\nallow-dynamic-audiences: false\n")]
    [InlineData("json", """{"audience": ["https://a", "https://b"], "socket-mode": "0600", "allow-dynamic-audiences": "false"}""")]
    public void Parse_ConfigFile_YamlOrJson_KeysAreTheOptionNames(string name, string text)
    {
        var parsed = Parse(["--config", Config(text, name)], []);

        Assert.Empty(parsed.Errors);
        Assert.Equal(["https://a", "https://b"], parsed.All(Many).Select(v => v.Text));
        Assert.Equal("0600", parsed.String(Single));
        Assert.False(parsed.Bool(Switch));
    }

    [Fact]
    public void Parse_ConfigFileNamedInTheEnvironment_IsRead()
    {
        var parsed = Parse([], new() { ["TOKEN_INJECTOR_CONFIG"] = Config("socket-mode: '0600'\n") });

        Assert.Equal("0600", parsed.String(Single));
    }

    public static TheoryData<string, string, string> BadConfigFiles() => new()
    {
        { "unknown key", "not-an-option: 1\n", "has unknown key 'not-an-option'" },
        { "the config key itself", "config: other.yaml\n", "has unknown key 'config'" },
        { "a list for a single value", "socket-mode: [1, 2]\n", "'socket-mode' must be a single value" },
        { "a mapping for a list", "audience: {a: b}\n", "'audience' must be a value or a list of values" },
        { "a nested list item", "audience:\n  - [a]\n", "'audience' must be a list of plain values" },
        { "not a mapping", "- a\n- b\n", "must hold a mapping of option names to values" },
        { "not YAML", "audience: [a\n", "is not valid YAML or JSON" },
    };

    [Theory]
    [MemberData(nameof(BadConfigFiles))]
    public void Parse_BadConfigFile_IsAnErrorNamingTheFile(string name, string text, string expected)
    {
        var file = Config(text);

        var parsed = Parse(["--config", file], []);

        var error = Assert.Single(parsed.Errors);
        Assert.True(error.StartsWith("--config: ", StringComparison.Ordinal), name + ": " + error);
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_MissingConfigFile_IsAnError()
    {
        var parsed = Parse(["--config", _directory.File("absent.yaml")], []);

        Assert.Contains("--config: cannot read", Assert.Single(parsed.Errors), StringComparison.Ordinal);
    }

    public static TheoryData<string, string[], string> CommandLineErrors() => new()
    {
        { "unknown option", ["--bogus"], "unknown option '--bogus' (see 'injector test --help')" },
        { "unknown option with =", ["--bogus=1"], "unknown option '--bogus' (see 'injector test --help')" },
        { "stray word", ["word"], "unexpected argument 'word': options start with -- (see 'injector test --help')" },
        { "missing value at the end", ["--socket-mode"], "--socket-mode: a value is required (MODE)" },
        { "missing value before a flag", ["--socket-mode", "--audience", "a"], "--socket-mode: a value is required (MODE)" },
        { "repeatable without its value", ["--audience", "a", "--audience"], "--audience: a value is required (AUDIENCE)" },
        { "single value twice", ["--socket-mode", "1", "--socket-mode", "2"], "--socket-mode: given more than once; it takes a single value" },
        { "response file is a word", ["@args.txt"], "unexpected argument '@args.txt'" },
    };

    [Theory]
    [MemberData(nameof(CommandLineErrors))]
    public void Parse_CommandLineMistake_IsOneErrorInTheCommonWords(string name, string[] args, string expected)
    {
        var parsed = Parse(args, []);

        var error = Assert.Single(parsed.Errors);
        Assert.True(error.StartsWith(expected, StringComparison.Ordinal), $"{name}: {error}");
    }

    [Fact]
    public void Parse_UnknownOption_TakesTheValueAfterIt_WithoutASecondError()
    {
        var parsed = Parse(["--bogus", "1", "--audience", "a"], []);

        Assert.Equal(["unknown option '--bogus' (see 'injector test --help')"], parsed.Errors);
        Assert.Equal(["a"], parsed.All(Many).Select(v => v.Text));
    }

    [Fact]
    public void Parse_ManyMistakes_AreAllToldAtOnce_OneLineEach_WithWhereEachValueCameFrom()
    {
        var file = Config("not-an-option: 1\nsocket-mode: 'x\ny'\n");
        var parsed = Parse(
            ["--bogus", "--allow-dynamic-audiences", "maybe", "--config", file, "stray"],
            new() { ["TOKEN_INJECTOR_AUDIENCE"] = "a", ["TOKEN_INJECTOR_SOCKET_MODE"] = "from-env\u001b[31m" });
        parsed.Bool(Switch);
        parsed.Int(Single, 0, 7);

        Assert.Equal(
            [
                "unknown option '--bogus' (see 'injector test --help')",
                "unexpected argument 'stray': options start with -- (see 'injector test --help')",
                $"--config: '{file}' has unknown key 'not-an-option' (keys are the option names, e.g. 'audience')",
                "--allow-dynamic-audiences: 'maybe' is not a boolean (true or false)",
                "--socket-mode: 'from-env\\u001b[31m' is not a whole number from 0 to 7 (from TOKEN_INJECTOR_SOCKET_MODE)",
            ],
            parsed.Errors);
        Assert.All(parsed.Errors, error => Assert.DoesNotContain('\n', error));
    }

    [Fact]
    public void Parse_ValueFromTheFile_ErrorNamesTheFileAndKey()
    {
        var file = Config("socket-mode: nine\n");
        var parsed = Parse(["--config", file], []);

        parsed.Int(Single, 0, 7);

        Assert.Equal([$"--socket-mode: 'nine' is not a whole number from 0 to 7 (from {file}: socket-mode)"], parsed.Errors);
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("-h")]
    [InlineData("-?")]
    public void Parse_Help_IsRequested(string flag)
    {
        Assert.True(Parse(["--audience", "a", flag], []).HelpRequested);
        Assert.False(Parse(["--audience", "a"], []).HelpRequested);
    }

    [Fact]
    public void Spec_NamesItsFlagEnvironmentVariableAndArgument()
    {
        Assert.Equal("--allow-dynamic-audiences", Switch.Flag);
        Assert.Equal("TOKEN_INJECTOR_ALLOW_DYNAMIC_AUDIENCES", Switch.EnvironmentVariable);
        Assert.Equal("--audience=https://a", Many.Argument("https://a"));
        Assert.Equal("true|false", Switch.ValueName);
        Assert.Equal("true", Switch.Default);
    }

    public void Dispose() => _directory.Dispose();

    private static ParsedOptions Parse(string[] args, Dictionary<string, string> environment) =>
        Command.Parse(args, name => environment.GetValueOrDefault(name));

    private string Config(string text, string extension = "yaml")
    {
        var file = _directory.File($"config-{Guid.NewGuid():N}.{extension}");
        File.WriteAllText(file, text);
        return file;
    }
}
