using System.Net;
using TokenInjector.Hosting;
using TokenInjector.Tokens;

namespace TokenInjector.Configuration;

/// <summary>Where ID tokens come from.</summary>
internal enum TokenSourceKind
{
    /// <summary>The GKE metadata server (Workload Identity), honouring <c>GCE_METADATA_HOST</c>.</summary>
    Metadata,

    /// <summary>Application Default Credentials, for running off GKE.</summary>
    Adc,
}

/// <summary>Which request header carries the token a route adds.</summary>
internal enum AuthHeaderMode
{
    /// <summary><c>Authorization: Bearer</c>, replacing the app's own.</summary>
    Authorization,

    /// <summary><c>X-Serverless-Authorization: Bearer</c>, so the app's own <c>Authorization</c> reaches the service.</summary>
    XServerlessAuthorization,
}

/// <summary>The validated settings of <c>injector sidecar</c>.</summary>
internal sealed record SidecarSettings
{
    public static readonly CommandOptions Command = new(
        "sidecar",
        "Keeps ID tokens fresh, serves them on a Unix socket and proxies local routes to Cloud Run with a token on every request.",
        [
            new("audience", "AUDIENCE", "audience to keep fresh", Repeatable: true),
            new("route", RouteSpec.Syntax, "local 127.0.0.1:PORT -> upstream; audience defaults to https://HOST", Repeatable: true),
            new("resolve", ResolveSpec.Syntax, "connect to ADDRESS for HOST:PORT (as curl's --resolve)", Repeatable: true),
            new("route-listen-address", "ADDRESS", "address the route listeners bind; anything but loopback needs --allow-non-loopback-routes", Default: "127.0.0.1"),
            new("allow-non-loopback-routes", "BOOL", "let --route-listen-address be a non-loopback address, exposing the routes (and the pod's identity) to the network", Default: "false"),
            new("upstream-ca-file", "FILE", "extra PEM CA(s) trusted for upstreams, on top of the system roots"),
            new("auth-header", "authorization|x-serverless-authorization", "header that carries the token on routes", Default: "authorization"),
            new("socket", "PATH", "token API Unix socket", Default: "/var/run/token-injector/token.sock"),
            new("socket-mode", "MODE", "file mode of the token API socket (octal)", Default: "0660"),
            new("token-dir", "DIR", "also write one token file per configured audience into DIR"),
            new("admin-address", "HOST:PORT", "listener for /metrics /healthz /readyz", Default: "0.0.0.0:9464"),
            new("token-source", "metadata|adc", "where tokens come from (metadata honours GCE_METADATA_HOST=host:port)", Default: "metadata"),
            new("allow-dynamic-audiences", "BOOL", "serve audiences that are not configured, fetched on demand", Default: "true"),
            new("max-dynamic-audiences", "N", "how many dynamic audiences are cached (least recently used dropped)", Default: "64"),
            new("dynamic-audience-idle", "DURATION", "a dynamic audience unused this long stops being refreshed", Default: "10m"),
            new("fetch-timeout", "DURATION", "time limit of one metadata server request", Default: "10s"),
            new("drain-timeout", "DURATION", "on SIGTERM, how long in-flight requests and streams may take to finish", Default: "25s"),
            new("log-format", "text|json", "log format; json prints one object per line with severity and message", Default: "text"),
            new("log-level", "LEVEL", "least severe level logged: debug, information, warning, error", Default: "information"),
            new(CommandOptions.ConfigOption, "FILE", "read these settings from a YAML or JSON file (keys are the option names)"),
        ]);

    public required IReadOnlyList<string> Audiences { get; init; }

    public required IReadOnlyList<RouteSpec> Routes { get; init; }

    public required IReadOnlyList<ResolveSpec> Resolves { get; init; }

    public required IPAddress RouteListenAddress { get; init; }

    public string? UpstreamCaFile { get; init; }

    public AuthHeaderMode AuthHeader { get; init; }

    public required string SocketPath { get; init; }

    public UnixFileMode SocketMode { get; init; }

    public string? TokenDirectory { get; init; }

    public required IPEndPoint AdminEndpoint { get; init; }

    public TokenSourceKind TokenSource { get; init; }

    /// <summary>With <see cref="TokenSourceKind.Adc"/>: the credentials file, read at start (null: none, so the metadata server).</summary>
    public AdcCredentials? AdcCredentials { get; init; }

    public bool AllowDynamicAudiences { get; init; }

    public int MaxDynamicAudiences { get; init; }

    public TimeSpan DynamicAudienceIdle { get; init; }

    public TimeSpan FetchTimeout { get; init; }

    public TimeSpan DrainTimeout { get; init; }

    public required LoggingSettings Logging { get; init; }

    /// <summary>Reads and validates every option; throws with all problems at once.</summary>
    public static SidecarSettings From(ParsedOptions options)
    {
        var audiences = new List<string>();
        foreach (var value in options.All("audience"))
        {
            if (AudienceRules.Problem(value.Text) is { } problem)
            {
                options.AddError(value, "audience", problem);
            }
            else if (!audiences.Contains(value.Text, StringComparer.Ordinal))
            {
                audiences.Add(value.Text);
            }
        }

        var routes = new List<RouteSpec>();
        foreach (var value in options.All("route"))
        {
            if (!RouteSpec.TryParse(value.Text, out var route, out var problem))
            {
                options.AddError(value, "route", problem);
            }
            else if (routes.Any(r => r.ListenPort == route!.ListenPort))
            {
                options.AddError(value, "route", $"uses local port {route!.ListenPort} again; each route needs its own port");
            }
            else
            {
                routes.Add(route!);
                if (!audiences.Contains(route!.Audience, StringComparer.Ordinal))
                {
                    audiences.Add(route.Audience);
                }
            }
        }

        var resolves = new List<ResolveSpec>();
        foreach (var value in options.All("resolve"))
        {
            if (ResolveSpec.TryParse(value.Text, out var resolve))
            {
                resolves.Add(resolve!);
            }
            else
            {
                options.AddError(value, "resolve", $"is not {ResolveSpec.Syntax} with a numeric ADDRESS");
            }
        }

        var caFile = options.Single("upstream-ca-file");
        if (caFile is not null && !File.Exists(caFile.Text))
        {
            options.AddError(caFile, "upstream-ca-file", "does not exist");
        }

        var routeAddress = options.Single("route-listen-address")!;
        if (!IPAddress.TryParse(routeAddress.Text, out var routeListenAddress))
        {
            options.AddError(routeAddress, "route-listen-address", "is not a numeric IP address such as 127.0.0.1");
            routeListenAddress = IPAddress.Loopback;
        }
        else if (!IPAddress.IsLoopback(routeListenAddress) && !options.Bool("allow-non-loopback-routes"))
        {
            // DESIGN.md: listeners bind to loopback unless explicitly told otherwise. Anything that reaches a route
            // calls the service as the pod's identity, so exposing routes takes a second, deliberate flag.
            options.AddError(
                routeAddress,
                "route-listen-address",
                "is not a loopback address; anything that reaches it could call the services as the pod's identity (add --allow-non-loopback-routes true if that is really wanted)");
        }

        var socket = options.Single("socket")!;
        var socketPath = socket.Text;
        if ((!Path.IsPathRooted(socketPath) && !socketPath.StartsWith('.')) || socketPath.Contains('\0', StringComparison.Ordinal))
        {
            options.AddError(socket, "socket", "is not a file path");
            socketPath = "/";
        }

        var admin = options.Single("admin-address")!;
        if (!IPEndPoint.TryParse(admin.Text, out var adminEndpoint) || !admin.Text.Contains(':', StringComparison.Ordinal))
        {
            options.AddError(admin, "admin-address", "is not HOST:PORT with a numeric host, e.g. 0.0.0.0:9464");
            adminEndpoint = new IPEndPoint(IPAddress.Any, 0);
        }

        var tokenDir = options.Single("token-dir");
        if (tokenDir is not null && (!Path.IsPathRooted(tokenDir.Text) || tokenDir.Text.Contains('\0', StringComparison.Ordinal)))
        {
            options.AddError(tokenDir, "token-dir", "is not an absolute directory path");
        }

        var settings = new SidecarSettings
        {
            Audiences = audiences,
            Routes = routes,
            Resolves = resolves,
            RouteListenAddress = routeListenAddress,
            UpstreamCaFile = caFile?.Text,
            AuthHeader = options.Choice("auth-header", new Dictionary<string, AuthHeaderMode>
            {
                ["authorization"] = AuthHeaderMode.Authorization,
                ["x-serverless-authorization"] = AuthHeaderMode.XServerlessAuthorization,
            }),
            SocketPath = Path.GetFullPath(socketPath),
            SocketMode = ParseMode(options),
            TokenDirectory = tokenDir?.Text,
            AdminEndpoint = adminEndpoint,
            TokenSource = options.Choice("token-source", new Dictionary<string, TokenSourceKind>
            {
                ["metadata"] = TokenSourceKind.Metadata,
                ["adc"] = TokenSourceKind.Adc,
            }),
            AllowDynamicAudiences = options.Bool("allow-dynamic-audiences"),
            MaxDynamicAudiences = options.Int("max-dynamic-audiences", 0, 10_000),
            DynamicAudienceIdle = options.Duration("dynamic-audience-idle", TimeSpan.FromSeconds(1), TimeSpan.FromDays(1)),
            FetchTimeout = options.Duration("fetch-timeout", TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(5)),
            DrainTimeout = options.Duration("drain-timeout", TimeSpan.Zero, TimeSpan.FromHours(1)),
            Logging = LoggingSettings.From(options),
        };

        if (settings.TokenSource == TokenSourceKind.Adc)
        {
            settings = settings with { AdcCredentials = AdcCredentials.Load(Environment.GetEnvironmentVariable, out var adcProblem) };
            if (adcProblem is not null)
            {
                options.AddError("token-source", adcProblem);
            }
        }

        if (settings.Audiences.Count == 0 && !settings.AllowDynamicAudiences)
        {
            options.AddError("audience", "no audience or route is configured and dynamic audiences are off, so no token could ever be served");
        }

        if (options.Errors.Count > 0)
        {
            throw new ConfigurationErrorException(options.Errors);
        }

        return settings;
    }

    private static UnixFileMode ParseMode(ParsedOptions options)
    {
        var value = options.Single("socket-mode")!;
        try
        {
            var mode = Convert.ToInt32(value.Text, 8);
            if (mode is >= 0 and <= 0x1FF)
            {
                return (UnixFileMode)mode;
            }
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or OverflowException)
        {
            // Reported below.
        }

        options.AddError(value, "socket-mode", "is not an octal file mode such as 0660");
        return UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite;
    }
}
