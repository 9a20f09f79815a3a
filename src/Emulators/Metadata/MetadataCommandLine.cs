using System.Globalization;

namespace TokenInjector.Emulators.Metadata;

/// <summary>
/// Arguments of <c>emulators metadata</c>, parsed by hand: a dozen flags do not justify a parser dependency.
/// Accepts "--name value" and "--name=value"; collects every error instead of stopping at the first.
/// </summary>
internal sealed class MetadataCommandLine
{
    internal const string Usage =
        "usage: emulators metadata --listen HOST:PORT [--token-lifetime SECONDS] [--gke-cache] [--gke-cache-window SECONDS]"
        + " [--fail-first SECONDS] [--fail-first-mode refuse|404|503] [--email EMAIL] [--latency-ms N] [--inject-status CODE]";

    public MetadataEmulatorOptions Options { get; } = new();

    public TimeSpan Latency { get; private set; }

    public int? InjectStatus { get; private set; }

    public List<string> Errors { get; } = [];

    public static MetadataCommandLine Parse(IReadOnlyList<string> args)
    {
        var result = new MetadataCommandLine();
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            string name;
            string? inlineValue = null;
            var equals = arg.IndexOf('=', StringComparison.Ordinal);
            if (arg.StartsWith("--", StringComparison.Ordinal) && equals > 0)
            {
                name = arg[..equals];
                inlineValue = arg[(equals + 1)..];
            }
            else
            {
                name = arg;
            }

            if (name == "--gke-cache")
            {
                if (inlineValue is not null)
                {
                    result.Errors.Add("--gke-cache takes no value");
                }

                result.Options.GkeCache = true;
                continue;
            }

            if (name is not ("--listen" or "--token-lifetime" or "--gke-cache-window" or "--fail-first" or "--fail-first-mode"
                or "--email" or "--latency-ms" or "--inject-status"))
            {
                result.Errors.Add($"unknown argument '{arg}'");
                continue;
            }

            var value = inlineValue;
            if (value is null)
            {
                if (i + 1 >= args.Count)
                {
                    result.Errors.Add($"{name} needs a value");
                    continue;
                }

                value = args[++i];
            }

            result.Apply(name, value);
        }

        if (result.Errors.Count == 0)
        {
            // Cross-field and format checks shared with in-process use (e.g. the listen address).
            result.Errors.AddRange(result.Options.Validate());
        }

        return result;
    }

    private void Apply(string name, string value)
    {
        switch (name)
        {
            case "--listen":
                Options.ListenAddress = value;
                break;
            case "--token-lifetime":
                Options.TokenLifetime = TimeSpan.FromSeconds(ParseInt(name, value, min: 1));
                break;
            case "--gke-cache-window":
                Options.GkeCacheWindow = TimeSpan.FromSeconds(ParseInt(name, value, min: 0));
                break;
            case "--fail-first":
                Options.StartupWindow = TimeSpan.FromSeconds(ParseInt(name, value, min: 0));
                break;
            case "--fail-first-mode":
                switch (value)
                {
                    case "refuse":
                        Options.StartupFailure = StartupFailure.Refuse;
                        break;
                    case "404":
                        Options.StartupFailure = StartupFailure.NotFound;
                        break;
                    case "503":
                        Options.StartupFailure = StartupFailure.Unavailable;
                        break;
                    default:
                        Errors.Add($"--fail-first-mode must be refuse, 404 or 503, not '{value}'");
                        break;
                }

                break;
            case "--email":
                Options.ServiceAccountEmail = value;
                break;
            case "--latency-ms":
                Latency = TimeSpan.FromMilliseconds(ParseInt(name, value, min: 0));
                break;
            case "--inject-status":
                InjectStatus = ParseInt(name, value, min: 100, max: 599);
                break;
            default:
                throw new InvalidOperationException($"no handler for {name}");
        }
    }

    private int ParseInt(string name, string value, int min, int max = int.MaxValue)
    {
        if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number >= min && number <= max)
        {
            return number;
        }

        Errors.Add(max == int.MaxValue
            ? $"{name} must be a whole number >= {min}, not '{value}'"
            : $"{name} must be a whole number from {min} to {max}, not '{value}'");
        return min;
    }
}
