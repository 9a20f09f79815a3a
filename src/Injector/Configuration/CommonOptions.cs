using TokenInjector.Plumbing;

namespace TokenInjector.Configuration;

/// <summary>The options that more than one command has, defined once for all of them.</summary>
internal static class CommonOptions
{
    public static readonly OptionSpec Config = new("config", "FILE", "read these settings from a YAML or JSON file (keys are the option names)");

    public static readonly OptionSpec LogFormat = new(
        "log-format", "text|json", "log format; json prints one object per line with severity and message", defaultValue: "text");

    public static readonly OptionSpec LogLevel = new(
        "log-level", "LEVEL", "least severe level logged: debug, information, warning, error", defaultValue: "information");

    private static readonly Dictionary<string, bool> JsonByFormat = new(StringComparer.Ordinal) { ["text"] = false, ["json"] = true };

    private static readonly Dictionary<string, Microsoft.Extensions.Logging.LogLevel> Levels = new(StringComparer.Ordinal)
    {
        ["information"] = Microsoft.Extensions.Logging.LogLevel.Information,
        ["info"] = Microsoft.Extensions.Logging.LogLevel.Information,
        ["debug"] = Microsoft.Extensions.Logging.LogLevel.Debug,
        ["warning"] = Microsoft.Extensions.Logging.LogLevel.Warning,
        ["error"] = Microsoft.Extensions.Logging.LogLevel.Error,
    };

    /// <summary>How a command that has <see cref="LogFormat"/> and <see cref="LogLevel"/> logs.</summary>
    public static LoggingSettings Logging(ParsedOptions options) =>
        new(options.Choice(LogFormat, JsonByFormat), options.Choice(LogLevel, Levels));
}
