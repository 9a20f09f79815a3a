using System.Globalization;

namespace TokenInjector.SampleWorkload.Client;

/// <summary>
/// Settings of <c>sample-workload client</c>. The target normally comes from the <c>TOKEN_INJECTOR_ROUTE_&lt;PORT&gt;</c>
/// variable the token-injector webhook adds for each route, so the app needs no configuration of its own.
/// </summary>
internal sealed record ClientOptions
{
    public const string RouteVariablePrefix = "TOKEN_INJECTOR_ROUTE_";

    public const string Usage = """
        usage: sample-workload client [options]
          --target URL              service to call (default: the first TOKEN_INJECTOR_ROUTE_<PORT> variable,
                                    lowest port first, e.g. http://127.0.0.1:8080 as injected by the webhook)
          --rate N                  unary calls per second (default 5)
          --duration SECONDS        stop after this long (default: run until Ctrl-C / SIGTERM)
          --timeout SECONDS         deadline of each unary call (default 10)
          --stream-messages N       replies per server-streaming call before it is restarted (default 20)
          --stream-interval-ms MS   pause between streamed replies (default 500)
        """;

    public required Uri Target { get; init; }

    public double Rate { get; init; } = 5;

    /// <summary>Null: run until stopped.</summary>
    public TimeSpan? Duration { get; init; }

    public TimeSpan CallTimeout { get; init; } = TimeSpan.FromSeconds(10);

    public int StreamMessages { get; init; } = 20;

    public int StreamIntervalMs { get; init; } = 500;

    /// <summary>
    /// Parses the command line (after <c>client</c>) and the environment. Returns null with every problem listed
    /// in <paramref name="errors"/>, or with an empty list when <c>--help</c> was asked for.
    /// </summary>
    public static ClientOptions? Parse(
        IReadOnlyList<string> args, IReadOnlyDictionary<string, string> environment, out List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(environment);
        errors = [];
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg is "--help" or "-h")
            {
                errors.Clear();
                return null;
            }

            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                errors.Add($"unexpected argument '{arg}'");
                continue;
            }

            var equals = arg.IndexOf('=', StringComparison.Ordinal);
            var (name, value) = equals > 0
                ? (arg[2..equals], arg[(equals + 1)..])
                : (arg[2..], i + 1 < args.Count ? args[++i] : null);
            if (value is null)
            {
                errors.Add($"--{name} needs a value");
                continue;
            }

            values[name] = value;
        }

        var target = ReadTarget(values, environment, errors);
        var rate = ReadNumber(values, "rate", 5, min: 0.01, max: 1000, errors);
        var duration = values.ContainsKey("duration") ? ReadNumber(values, "duration", 0, min: 0.1, max: 31_536_000, errors) : (double?)null;
        var timeout = ReadNumber(values, "timeout", 10, min: 0.01, max: 3600, errors);
        var streamMessages = ReadNumber(values, "stream-messages", 20, min: 1, max: 1_000_000, errors, integer: true);
        var streamInterval = ReadNumber(values, "stream-interval-ms", 500, min: 0, max: 3_600_000, errors, integer: true);
        foreach (var unknown in values.Keys.Except(["target", "rate", "duration", "timeout", "stream-messages", "stream-interval-ms"]))
        {
            errors.Add($"unknown option --{unknown}");
        }

        if (errors.Count > 0 || target is null)
        {
            return null;
        }

        return new ClientOptions
        {
            Target = target,
            Rate = rate,
            Duration = duration is { } seconds ? TimeSpan.FromSeconds(seconds) : null,
            CallTimeout = TimeSpan.FromSeconds(timeout),
            StreamMessages = (int)streamMessages,
            StreamIntervalMs = (int)streamInterval,
        };
    }

    private static Uri? ReadTarget(
        Dictionary<string, string> values, IReadOnlyDictionary<string, string> environment, List<string> errors)
    {
        string source;
        string? raw;
        if (values.TryGetValue("target", out var explicitTarget))
        {
            (source, raw) = ("--target", explicitTarget);
        }
        else
        {
            // Environment order is not defined; the lowest port makes "the first route" stable.
            var route = environment
                .Select(variable => (variable.Key, variable.Value, Port: RoutePort(variable.Key)))
                .Where(variable => variable.Port is not null)
                .OrderBy(variable => variable.Port)
                .FirstOrDefault();
            if (route.Key is null)
            {
                errors.Add($"no target: pass --target URL, or set {RouteVariablePrefix}<PORT> "
                    + "(the token-injector webhook sets one per route, e.g. TOKEN_INJECTOR_ROUTE_8080=http://127.0.0.1:8080)");
                return null;
            }

            (source, raw) = (route.Key, route.Value);
        }

        if (!Uri.TryCreate(raw, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            errors.Add($"{source}='{raw}' is not an http:// or https:// URL");
            return null;
        }

        return uri;
    }

    private static int? RoutePort(string name) =>
        name.StartsWith(RouteVariablePrefix, StringComparison.Ordinal)
        && int.TryParse(name.AsSpan(RouteVariablePrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var port)
            ? port
            : null;

    private static double ReadNumber(
        Dictionary<string, string> values, string name, double fallback, double min, double max, List<string> errors, bool integer = false)
    {
        if (!values.TryGetValue(name, out var raw))
        {
            return fallback;
        }

        if (!double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
            || value < min || value > max || (integer && value != Math.Floor(value)))
        {
            var kind = integer ? "a whole number" : "a number";
            errors.Add($"--{name}='{raw}' must be {kind} from {min.ToString(CultureInfo.InvariantCulture)} to {max.ToString(CultureInfo.InvariantCulture)}");
            return fallback;
        }

        return value;
    }
}
