using System.CommandLine;
using System.Globalization;
using TokenInjector.DevCommandLine;

namespace TokenInjector.SampleWorkload.Client;

/// <summary>
/// <c>sample-workload client [options]</c>: reads <see cref="ClientOptions"/> from the command line and, for the
/// target, from the route variables the webhook injects, then runs an <see cref="EchoClientRunner"/>.
/// </summary>
internal sealed class ClientCommand
{
    private readonly Option<Uri> _target = DevOptions.Url(
        "--target", "service to call (default: the first TOKEN_INJECTOR_ROUTE_<PORT> variable, lowest port first, as injected by the webhook)", "http", "https");

    private readonly Option<double> _rate = DevOptions.Number("--rate", "unary calls per second", min: 0.01, max: 1000, defaultValue: 5);
    private readonly Option<TimeSpan> _duration = DevOptions.Duration(
        "--duration", "stop after this long (default: run until Ctrl-C / SIGTERM)", TimeSpan.FromMilliseconds(100), TimeSpan.FromDays(365));

    private readonly Option<TimeSpan> _timeout = DevOptions.Duration(
        "--timeout", "deadline of each unary call", TimeSpan.FromMilliseconds(10), TimeSpan.FromHours(1), defaultValue: TimeSpan.FromSeconds(10));

    private readonly Option<int> _streamMessages = DevOptions.WholeNumber("--stream-messages", "replies per server-streaming call before it is restarted", min: 1, max: 1_000_000, defaultValue: 20);
    private readonly Option<TimeSpan> _streamInterval = DevOptions.Duration(
        "--stream-interval", "time between streamed replies", TimeSpan.Zero, TimeSpan.FromHours(1), defaultValue: TimeSpan.FromMilliseconds(500));

    private readonly IReadOnlyDictionary<string, string> _environment;

    private ClientCommand(IReadOnlyDictionary<string, string> environment)
    {
        _environment = environment;
        Command = new Command("client", "The app that calls the echo service through the sidecar, with no auth code of its own.")
        {
            _target, _rate, _duration, _timeout, _streamMessages, _streamInterval,
        };
    }

    private Command Command { get; }

    public static Command Create(IReadOnlyDictionary<string, string> environment, TimeProvider time)
    {
        var client = new ClientCommand(environment);
        DevCommand.SetAction(client.Command, client.Bind, (options, invocation) => new EchoClientRunner(options, invocation.Output, time).RunAsync(invocation.Stop));
        return client.Command;
    }

    /// <summary>The options <paramref name="args"/> and <paramref name="environment"/> give, or every error in them.</summary>
    public static (ClientOptions? Options, IReadOnlyList<string> Errors) Parse(IReadOnlyList<string> args, IReadOnlyDictionary<string, string> environment)
    {
        var client = new ClientCommand(environment);
        return DevCommand.Bind(client.Command.Parse(args), client.Bind);
    }

    private ClientOptions Bind(ParseResult parsed, List<string> errors) => new()
    {
        Target = parsed.GetValue(_target) ?? RouteTarget(errors)!,
        Rate = parsed.GetValue(_rate),
        Duration = parsed.GetResult(_duration) is null ? null : parsed.GetValue(_duration),
        CallTimeout = parsed.GetValue(_timeout),
        StreamMessages = parsed.GetValue(_streamMessages),
        StreamIntervalMs = (int)parsed.GetValue(_streamInterval).TotalMilliseconds,
    };

    private Uri? RouteTarget(List<string> errors)
    {
        // Environment order is not defined; the lowest port makes "the first route" stable.
        var route = _environment
            .Select(variable => (variable.Key, variable.Value, Port: RoutePort(variable.Key)))
            .Where(variable => variable.Port is not null)
            .OrderBy(variable => variable.Port)
            .FirstOrDefault();
        if (route.Key is null)
        {
            errors.Add($"no target: pass --target URL, or set {ClientOptions.RouteVariablePrefix}<PORT> "
                + "(the token-injector webhook sets one per route, e.g. TOKEN_INJECTOR_ROUTE_8080=http://127.0.0.1:8080)");
            return null;
        }

        if (!Uri.TryCreate(route.Value, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            errors.Add($"{route.Key}='{route.Value}' is not an http:// or https:// URL");
            return null;
        }

        return uri;
    }

    private static int? RoutePort(string name) =>
        name.StartsWith(ClientOptions.RouteVariablePrefix, StringComparison.Ordinal)
        && int.TryParse(name.AsSpan(ClientOptions.RouteVariablePrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var port)
            ? port
            : null;
}
