namespace TokenInjector.Commands;

/// <summary>How every command reports bad configuration: one line per error on stderr, exit code 2.</summary>
internal static class ConfigurationErrors
{
    public const int ExitCode = 2;

    public static int Report(string command, IReadOnlyList<string> errors, TextWriter error)
    {
        foreach (var line in errors)
        {
            error.WriteLine($"injector {command}: error: {line}");
        }

        return ExitCode;
    }
}
