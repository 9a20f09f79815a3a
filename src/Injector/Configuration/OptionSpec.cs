namespace TokenInjector.Configuration;

/// <summary>
/// One command-line option. The same spec names the flag (<c>--name</c>), the environment variable
/// (<c>TOKEN_INJECTOR_NAME</c>) and the config-file key (<c>name</c>), and writes the help text, so the
/// three sources and the documentation cannot drift apart.
/// </summary>
internal sealed record OptionSpec(string Name, string ValueName, string Help, bool Repeatable = false, string? Default = null)
{
    public const string EnvironmentPrefix = "TOKEN_INJECTOR_";

    public string Flag => "--" + Name;

    public string EnvironmentVariable => EnvironmentPrefix + Name.Replace('-', '_').ToUpperInvariant();
}
