using System.Globalization;

namespace TokenInjector.Configuration;

/// <summary>
/// A proxy route: the local port <see cref="ListenPort"/> on loopback forwards to <see cref="Upstream"/> over TLS,
/// adding an ID token for <see cref="Audience"/> (by default <c>https://HOST</c>, the Cloud Run service URL) in the
/// <see cref="Header"/> it names, or in the sidecar's <c>--auth-header</c> when it names none (null).
/// </summary>
internal sealed record RouteSpec(int ListenPort, string Host, int UpstreamPort, string Audience, AuthHeaderMode? Header = null)
{
    public const string Syntax = "PORT=https://HOST[:PORT]" + TargetParameters.HeaderSyntax + "[=AUDIENCE]";

    public Uri Upstream => new UriBuilder(Uri.UriSchemeHttps, Host, UpstreamPort).Uri;

    /// <summary>The authority to send upstream: the port is left out when it is the default.</summary>
    public string Authority => UpstreamPort == 443 ? Host : $"{Host}:{UpstreamPort.ToString(CultureInfo.InvariantCulture)}";

    public static bool TryParse(string text, out RouteSpec? route, out string problem)
    {
        route = null;
        problem = $"is not {Syntax}";
        var firstEquals = text.IndexOf('=', StringComparison.Ordinal);
        if (firstEquals <= 0)
        {
            return false;
        }

        if (!int.TryParse(text.AsSpan(0, firstEquals), NumberStyles.None, CultureInfo.InvariantCulture, out var listenPort)
            || listenPort is < 1 or > 65535)
        {
            problem = $"does not start with a local port from 1 to 65535 ({Syntax})";
            return false;
        }

        if (!TargetParameters.TryParseWithHeader(text[(firstEquals + 1)..], out var parameters, out var header, out var parameterProblem))
        {
            problem = $"{parameterProblem} ({Syntax})";
            return false;
        }

        var (url, _, customAudience) = parameters;

        if (!url.StartsWith("https://", StringComparison.OrdinalIgnoreCase)
            || !Uri.TryCreate(url, UriKind.Absolute, out var upstream)
            || upstream.AbsolutePath != "/" || upstream.Query.Length > 0 || upstream.UserInfo.Length > 0
            || string.IsNullOrEmpty(upstream.Host))
        {
            problem = $"has upstream '{ErrorText.Shown(url)}', which is not https://HOST[:PORT] with no path ({Syntax})";
            return false;
        }

        // An address is kept as Uri writes it; a name takes the one canonical form every host is compared in, so
        // that --resolve and the audience name the host as the route does.
        string? host = upstream.Host;
        if (upstream.HostNameType is not (UriHostNameType.IPv4 or UriHostNameType.IPv6)
            && !HostName.TryCanonical(upstream.Host, out host, out var hostProblem))
        {
            problem = $"has upstream '{ErrorText.Shown(url)}', whose host {hostProblem} ({Syntax})";
            return false;
        }

        var audience = customAudience ?? "https://" + host;
        if (AudienceRules.Problem(audience) is { } audienceProblem)
        {
            problem = $"has an audience that {audienceProblem}";
            return false;
        }

        route = new RouteSpec(listenPort, host, upstream.Port, audience, header);
        return true;
    }
}
