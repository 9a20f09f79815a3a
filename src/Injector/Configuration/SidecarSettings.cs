using System.Globalization;
using System.Net;
using TokenInjector.Plumbing;

namespace TokenInjector.Configuration;

/// <summary>Where ID tokens come from.</summary>
internal enum TokenSourceKind
{
    /// <summary>The GKE metadata server (Workload Identity), honouring <c>GCE_METADATA_HOST</c>.</summary>
    Metadata,

    /// <summary>Application Default Credentials, for running off GKE.</summary>
    Adc,
}

/// <summary>The validated settings of <c>injector sidecar</c>.</summary>
internal sealed record SidecarSettings
{
    public static readonly CommandOptions Command = new(
        "sidecar",
        "Keeps ID tokens fresh, serves them on a Unix socket and proxies local routes to Cloud Run with a token on every request.",
        [
            Options.Audience, Options.Route, Options.Egress, Options.EgressHost, Options.Metadata, Options.Resolve, Options.ListenAddress, Options.AllowNonLoopbackListeners,
            Options.UpstreamCaFile, Options.AuthHeader, Options.Socket, Options.SocketMode, Options.TokenDir, Options.AdminAddress,
            Options.TokenSource, Options.Impersonate, Options.IamCredentialsUrl, Options.AllowDynamicAudiences, Options.MaxDynamicAudiences, Options.DynamicAudienceIdle,
            Options.FetchTimeout, Options.DrainTimeout, CommonOptions.LogFormat, CommonOptions.LogLevel, CommonOptions.Config,
        ]);

    public required IReadOnlyList<string> Audiences { get; init; }

    public required IReadOnlyList<RouteSpec> Routes { get; init; }

    /// <summary>The egress listener's local port; null when there is none.</summary>
    public int? EgressPort { get; init; }

    /// <summary>The egress listener's allowlist (<see cref="EgressHostSpec.RunApp"/> when it has none of its own).</summary>
    public IReadOnlyList<EgressHostSpec> EgressHosts { get; init; } = [];

    /// <summary>The metadata endpoint's local port; null when there is none.</summary>
    public int? MetadataPort { get; init; }

    /// <summary>
    /// The metadata server the endpoint forwards to, as <c>host[:port]</c>: the sidecar's own <c>GCE_METADATA_HOST</c>,
    /// else 169.254.169.254 (read with the options, so that a value that points back at the endpoint is refused at start).
    /// </summary>
    public string MetadataServer { get; init; } = SidecarContract.DefaultMetadataServer;

    public required IReadOnlyList<ResolveSpec> Resolves { get; init; }

    public required IPAddress ListenAddress { get; init; }

    public string? UpstreamCaFile { get; init; }

    public AuthHeaderMode AuthHeader { get; init; }

    public required string SocketPath { get; init; }

    public UnixFileMode SocketMode { get; init; }

    public string? TokenDirectory { get; init; }

    public required IPEndPoint AdminEndpoint { get; init; }

    public TokenSourceKind TokenSource { get; init; }

    /// <summary>With <see cref="TokenSourceKind.Adc"/>: the credentials file, read at start (null: none, so the metadata server).</summary>
    public AdcCredentials? AdcCredentials { get; init; }

    /// <summary>The service accounts audiences are fetched as (<c>--impersonate</c>); empty: every token is the sidecar's own identity's.</summary>
    public IReadOnlyList<ImpersonationSpec> Impersonations { get; init; } = [];

    /// <summary>The IAM Credentials API that <see cref="Impersonations"/> call.</summary>
    public Uri IamCredentialsUrl { get; init; } = new(Options.IamCredentialsUrl.Default!);

    public bool AllowDynamicAudiences { get; init; }

    public int MaxDynamicAudiences { get; init; }

    public TimeSpan DynamicAudienceIdle { get; init; }

    public TimeSpan FetchTimeout { get; init; }

    public TimeSpan DrainTimeout { get; init; }

    public required LoggingSettings Logging { get; init; }

    /// <summary>
    /// Reads and validates every option; throws with all problems at once. <paramref name="environment"/> is the
    /// sidecar's own environment (the process's in production), read for <c>GCE_METADATA_HOST</c> and, with
    /// <c>--token-source adc</c>, for the credentials file; a test passes its own.
    /// </summary>
    public static SidecarSettings From(ParsedOptions options, Func<string, string?> environment)
    {
        // The order of these reads is the order of the errors (SidecarSettingsTests holds it).
        var audiences = ReadAudiences(options);
        var routes = ReadRoutes(options, audiences);
        var (egressPort, egressHosts) = ReadEgress(options, routes);
        var metadataPort = ReadMetadataPort(options, routes, egressPort);
        var settings = new SidecarSettings
        {
            Audiences = audiences,
            Routes = routes,
            EgressPort = egressPort,
            EgressHosts = egressHosts,
            MetadataPort = metadataPort,
            MetadataServer = ReadMetadataServer(options, metadataPort, environment),
            Resolves = ReadResolves(options),
            UpstreamCaFile = ReadUpstreamCaFile(options),
            ListenAddress = ReadListenAddress(options),
            SocketPath = ReadSocketPath(options),
            AdminEndpoint = ReadAdminEndpoint(options),
            TokenDirectory = ReadTokenDirectory(options),
            AuthHeader = options.Choice(Options.AuthHeader, AuthHeaderModes.ByName),
            SocketMode = ParseMode(options),
            TokenSource = options.Choice(Options.TokenSource, new Dictionary<string, TokenSourceKind>
            {
                ["metadata"] = TokenSourceKind.Metadata,
                ["adc"] = TokenSourceKind.Adc,
            }),
            Impersonations = ReadImpersonations(options),
            IamCredentialsUrl = ReadIamCredentialsUrl(options),
            AllowDynamicAudiences = options.Bool(Options.AllowDynamicAudiences),
            MaxDynamicAudiences = options.Int(Options.MaxDynamicAudiences, 0, 10_000),
            DynamicAudienceIdle = options.Duration(Options.DynamicAudienceIdle, TimeSpan.FromSeconds(1), TimeSpan.FromDays(1)),
            FetchTimeout = options.Duration(Options.FetchTimeout, TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(5)),
            DrainTimeout = options.Duration(Options.DrainTimeout, TimeSpan.Zero, TimeSpan.FromHours(1)),
            Logging = CommonOptions.Logging(options),
        };

        if (settings.TokenSource == TokenSourceKind.Adc)
        {
            settings = settings with { AdcCredentials = ReadAdcCredentials(options, environment) };
        }

        if (settings.Audiences.Count == 0 && !settings.AllowDynamicAudiences)
        {
            options.AddError(Options.Audience, "no audience or route is configured and dynamic audiences are off, so no token could ever be served");
        }

        if (options.Errors.Count > 0)
        {
            throw new ConfigurationErrorException(options.Errors);
        }

        return settings;
    }

    private static List<string> ReadAudiences(ParsedOptions options)
    {
        var audiences = new List<string>();
        foreach (var value in options.All(Options.Audience))
        {
            if (AudienceRules.Problem(value.Text) is { } problem)
            {
                options.AddError(value, Options.Audience, problem);
            }
            else if (!audiences.Contains(value.Text, StringComparer.Ordinal))
            {
                audiences.Add(value.Text);
            }
        }

        return audiences;
    }

    // Each route's audience joins the audiences kept fresh (once).
    private static List<RouteSpec> ReadRoutes(ParsedOptions options, List<string> audiences)
    {
        var routes = new List<RouteSpec>();
        foreach (var value in options.All(Options.Route))
        {
            if (!RouteSpec.TryParse(value.Text, out var route, out var problem))
            {
                options.AddError(value, Options.Route, problem);
            }
            else if (routes.Any(r => r.ListenPort == route!.ListenPort))
            {
                options.AddError(value, Options.Route, $"uses local port {route!.ListenPort} again; each route needs its own port");
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

        return routes;
    }

    // One entry per audience, and at most one for every other audience.
    private static List<ImpersonationSpec> ReadImpersonations(ParsedOptions options)
    {
        var impersonations = new List<ImpersonationSpec>();
        foreach (var value in options.All(Options.Impersonate))
        {
            if (!ImpersonationSpec.TryParse(value.Text, out var spec, out var problem))
            {
                options.AddError(value, Options.Impersonate, problem);
            }
            else if (ImpersonationSpec.Conflict(impersonations, spec) is { } conflict)
            {
                options.AddError(value, Options.Impersonate, conflict);
            }
            else
            {
                impersonations.Add(spec);
            }
        }

        return impersonations;
    }

    // IAM is called with the sidecar's own access token: over TLS, or in the clear only to this machine (an emulator).
    private static Uri ReadIamCredentialsUrl(ParsedOptions options)
    {
        var value = options.Single(Options.IamCredentialsUrl)!;
        if (!Uri.TryCreate(value.Text, UriKind.Absolute, out var url)
            || !(url.Scheme == Uri.UriSchemeHttps || (url.Scheme == Uri.UriSchemeHttp && url.IsLoopback))
            || url.Query.Length > 0 || url.UserInfo.Length > 0 || url.Fragment.Length > 0)
        {
            options.AddError(value, Options.IamCredentialsUrl, "is not an https:// URL (or an http:// URL on loopback) without query");
            return new Uri(Options.IamCredentialsUrl.Default!);
        }

        return url.AbsolutePath.EndsWith('/') ? url : new Uri(url.AbsoluteUri + "/");
    }

    // Read with the options, so that a value that points back at the endpoint is refused at start rather than looping.
    private static string ReadMetadataServer(ParsedOptions options, int? metadataPort, Func<string, string?> environment)
    {
        var metadataServer = environment(SidecarContract.MetadataHostEnvironmentVariable) is { Length: > 0 } named
            ? named.Trim()
            : SidecarContract.DefaultMetadataServer;
        if (metadataPort is { } ownPort && PointsAt(metadataServer, ownPort))
        {
            options.AddError(
                Options.Metadata,
                $"{SidecarContract.MetadataHostEnvironmentVariable}={metadataServer} in the sidecar's own environment names this endpoint; it must name the real metadata server (set it only in the app containers)");
        }
        else if (metadataPort is not null && !Uri.TryCreate("http://" + metadataServer + "/", UriKind.Absolute, out _))
        {
            options.AddError(Options.Metadata, $"{SidecarContract.MetadataHostEnvironmentVariable}={metadataServer} is not HOST[:PORT], so the endpoint has nowhere to forward");
        }

        return metadataServer;
    }

    private static List<ResolveSpec> ReadResolves(ParsedOptions options)
    {
        var resolves = new List<ResolveSpec>();
        foreach (var value in options.All(Options.Resolve))
        {
            if (ResolveSpec.TryParse(value.Text, out var resolve))
            {
                resolves.Add(resolve!);
            }
            else
            {
                options.AddError(value, Options.Resolve, $"is not {ResolveSpec.Syntax} with a numeric ADDRESS (an IPv6 ADDRESS with a PORT in brackets)");
            }
        }

        return resolves;
    }

    private static string? ReadUpstreamCaFile(ParsedOptions options)
    {
        var caFile = options.Single(Options.UpstreamCaFile);
        if (caFile is not null && !File.Exists(caFile.Text))
        {
            options.AddError(caFile, Options.UpstreamCaFile, "does not exist");
        }

        return caFile?.Text;
    }

    private static IPAddress ReadListenAddress(ParsedOptions options)
    {
        var allowNonLoopbackListeners = options.Bool(Options.AllowNonLoopbackListeners);
        var routeAddress = options.Single(Options.ListenAddress)!;
        if (!IPAddress.TryParse(routeAddress.Text, out var routeListenAddress))
        {
            options.AddError(routeAddress, Options.ListenAddress, "is not a numeric IP address such as 127.0.0.1");
            return IPAddress.Loopback;
        }

        if (!IPAddress.IsLoopback(routeListenAddress) && !allowNonLoopbackListeners)
        {
            // Listeners bind to loopback unless explicitly told otherwise: anything that reaches a route calls the
            // service as the pod's identity, so exposing routes takes a second, deliberate flag.
            options.AddError(
                routeAddress,
                Options.ListenAddress,
                "is not a loopback address; anything that reaches it could call the services as the pod's identity (add --allow-non-loopback-listeners true if that is really wanted)");
        }

        return routeListenAddress;
    }

    private static string ReadSocketPath(ParsedOptions options)
    {
        var socket = options.Single(Options.Socket)!;
        var socketPath = socket.Text;
        if ((!Path.IsPathRooted(socketPath) && !socketPath.StartsWith('.')) || socketPath.Contains('\0', StringComparison.Ordinal))
        {
            options.AddError(socket, Options.Socket, "is not a file path");
            socketPath = "/";
        }

        return Path.GetFullPath(socketPath);
    }

    private static IPEndPoint ReadAdminEndpoint(ParsedOptions options)
    {
        var admin = options.Single(Options.AdminAddress)!;
        if (!IPEndPoint.TryParse(admin.Text, out var adminEndpoint) || !admin.Text.Contains(':', StringComparison.Ordinal))
        {
            options.AddError(admin, Options.AdminAddress, "is not HOST:PORT with a numeric host, e.g. 0.0.0.0:9464");
            return new IPEndPoint(IPAddress.Any, 0);
        }

        return adminEndpoint;
    }

    private static string? ReadTokenDirectory(ParsedOptions options)
    {
        var tokenDir = options.Single(Options.TokenDir);
        if (tokenDir is not null && (!Path.IsPathRooted(tokenDir.Text) || tokenDir.Text.Contains('\0', StringComparison.Ordinal)))
        {
            options.AddError(tokenDir, Options.TokenDir, "is not an absolute directory path");
        }

        return tokenDir?.Text;
    }

    // The credentials file is read at start, so that one that can never mint an ID token stops the sidecar with a reason.
    private static AdcCredentials? ReadAdcCredentials(ParsedOptions options, Func<string, string?> environment)
    {
        var credentials = AdcCredentials.Load(environment, out var problem);
        if (problem is not null)
        {
            options.AddError(Options.TokenSource, problem);
        }

        return credentials;
    }

    private static (int? Port, IReadOnlyList<EgressHostSpec> Hosts) ReadEgress(ParsedOptions options, IReadOnlyList<RouteSpec> routes)
    {
        int? port = null;
        if (options.Single(Options.Egress) is { } egress)
        {
            if (!int.TryParse(egress.Text, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number is < 1 or > 65535)
            {
                options.AddError(egress, Options.Egress, "is not a local port from 1 to 65535");
            }
            else if (routes.Any(r => r.ListenPort == number))
            {
                options.AddError(egress, Options.Egress, "is also a route's local port; each listener needs its own port");
            }
            else
            {
                port = number;
            }
        }

        var hosts = new List<EgressHostSpec>();
        foreach (var value in options.All(Options.EgressHost))
        {
            if (!EgressHostSpec.TryParse(value.Text, out var host, out var problem))
            {
                options.AddError(value, Options.EgressHost, problem);
            }
            else if (hosts.Any(h => h.Pattern == host.Pattern))
            {
                options.AddError(value, Options.EgressHost, $"repeats the pattern {host.Pattern}; each host has one audience");
            }
            else
            {
                hosts.Add(host);
            }
        }

        if (options.Single(Options.Egress) is null && hosts.Count > 0)
        {
            options.AddError(Options.EgressHost, $"is given without {Options.Egress.Flag}, so no listener would use it");
        }

        return (port, hosts.Count == 0 && port is not null ? [EgressHostSpec.RunApp] : hosts);
    }

    private static int? ReadMetadataPort(ParsedOptions options, IReadOnlyList<RouteSpec> routes, int? egressPort)
    {
        if (options.Single(Options.Metadata) is not { } metadata)
        {
            return null;
        }

        if (!int.TryParse(metadata.Text, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number is < 1 or > 65535)
        {
            options.AddError(metadata, Options.Metadata, "is not a local port from 1 to 65535");
            return null;
        }

        if (routes.Any(r => r.ListenPort == number) || egressPort == number)
        {
            options.AddError(metadata, Options.Metadata, "is also a route's or the egress listener's local port; each listener needs its own port");
            return null;
        }

        return number;
    }

    // GCE_METADATA_HOST naming a loopback address (or localhost) at the endpoint's own port: a request would loop.
    private static bool PointsAt(string hostAndPort, int port)
    {
        if (!Uri.TryCreate("http://" + hostAndPort + "/", UriKind.Absolute, out var uri) || uri.Port != port)
        {
            return false;
        }

        return uri.IsLoopback || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));
    }

    private static UnixFileMode ParseMode(ParsedOptions options)
    {
        var value = options.Single(Options.SocketMode)!;
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

        options.AddError(value, Options.SocketMode, "is not an octal file mode such as 0660");
        return UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite;
    }

    /// <summary>
    /// The sidecar's options. They are its contract with the webhook, which writes them into every injected pod
    /// (<c>PodMutator.SidecarArgs</c>), and with <c>injector token</c>, which shares <see cref="Socket"/>.
    /// </summary>
    public static class Options
    {
        public static readonly OptionSpec Audience = new("audience", "AUDIENCE", "audience to keep fresh", OptionKind.Repeatable);

        public static readonly OptionSpec Route = new(
            "route", RouteSpec.Syntax, "local 127.0.0.1:PORT -> upstream; audience defaults to https://HOST", OptionKind.Repeatable);

        public static readonly OptionSpec Egress = new(
            "egress", "PORT", "local 127.0.0.1:PORT -> https://HOST, HOST named by each request (HTTP proxy, CONNECT tunnel or Host) and allowed by --egress-host");

        public static readonly OptionSpec EgressHost = new(
            "egress-host", EgressHostSpec.Syntax, "host the egress listener serves, exact or *.suffix; audience defaults to https://HOST (default *.run.app)", OptionKind.Repeatable);

        public static readonly OptionSpec Metadata = new(
            "metadata", "PORT", "a metadata-server endpoint on 127.0.0.1:PORT for Google's client libraries (GCE_METADATA_HOST=127.0.0.1:PORT): ID tokens from the cache, the rest forwarded");

        public static readonly OptionSpec Resolve = new(
            "resolve", ResolveSpec.Syntax, "connect to ADDRESS (and PORT) for HOST:PORT (as curl's --resolve and --connect-to)", OptionKind.Repeatable);

        public static readonly OptionSpec ListenAddress = new(
            "listen-address", "ADDRESS", "address the route, egress and metadata listeners bind; anything but loopback needs --allow-non-loopback-listeners", defaultValue: "127.0.0.1");

        public static readonly OptionSpec AllowNonLoopbackListeners = OptionSpec.Switch(
            "allow-non-loopback-listeners", "let --listen-address be a non-loopback address, exposing the routes (and the pod's identity) to the network", false);

        public static readonly OptionSpec UpstreamCaFile = new("upstream-ca-file", "FILE", "extra PEM CA(s) trusted for upstreams, on top of the system roots");

        public static readonly OptionSpec AuthHeader = new(
            "auth-header", AuthHeaderModes.Names, "header that carries the token on routes and egress hosts that name none (;header=MODE)", defaultValue: "authorization");

        public static readonly OptionSpec Socket = new("socket", "PATH", "token API Unix socket", defaultValue: SidecarContract.SocketPath);

        public static readonly OptionSpec SocketMode = new("socket-mode", "MODE", "file mode of the token API socket (octal)", defaultValue: "0660");

        public static readonly OptionSpec TokenDir = new("token-dir", "DIR", "also write one token file per configured audience into DIR");

        public static readonly OptionSpec AdminAddress = new(
            "admin-address", "HOST:PORT", "listener for /metrics /healthz /readyz", defaultValue: "0.0.0.0:" + SidecarContract.AdminPort.ToString(CultureInfo.InvariantCulture));

        public static readonly OptionSpec TokenSource = new(
            "token-source", "metadata|adc", "where tokens come from (metadata honours GCE_METADATA_HOST=host:port)", defaultValue: "metadata");

        public static readonly OptionSpec Impersonate = new(
            "impersonate",
            ImpersonationSpec.Syntax,
            "fetch AUDIENCE's tokens (every other audience's without =AUDIENCE) as SERVICE_ACCOUNT through IAM generateIdToken, authorised by the sidecar's own identity through each delegate",
            OptionKind.Repeatable);

        public static readonly OptionSpec IamCredentialsUrl = new(
            "iam-credentials-url", "URL", "the IAM Credentials API --impersonate calls (a Private Service Connect endpoint, say)", defaultValue: "https://iamcredentials.googleapis.com/");

        public static readonly OptionSpec AllowDynamicAudiences = OptionSpec.Switch(
            "allow-dynamic-audiences", "serve audiences that are not configured, fetched on demand", true);

        public static readonly OptionSpec MaxDynamicAudiences = new(
            "max-dynamic-audiences", "N", "how many dynamic audiences are cached (least recently used dropped)", defaultValue: "64");

        public static readonly OptionSpec DynamicAudienceIdle = new(
            "dynamic-audience-idle", "DURATION", "a dynamic audience unused this long stops being refreshed", defaultValue: "10m");

        public static readonly OptionSpec FetchTimeout = new("fetch-timeout", "DURATION", "time limit of one metadata server request", defaultValue: "10s");

        public static readonly OptionSpec DrainTimeout = new(
            "drain-timeout", "DURATION", "on SIGTERM, how long in-flight requests and streams may take to finish", defaultValue: "25s");
    }
}
