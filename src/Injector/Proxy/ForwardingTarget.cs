using System.Globalization;
using TokenInjector.Configuration;

namespace TokenInjector.Proxy;

/// <summary>
/// Where one proxied request goes: <see cref="Destination"/> (the upstream URL, TLS), the <see cref="Audience"/> of its
/// token, the <see cref="Authority"/> that messages name, the <see cref="Listener"/> label that metrics and logs count
/// it under (a route's local port, or <see cref="EgressListener"/>), and the <see cref="Header"/> that carries the token
/// (null: the sidecar's <c>--auth-header</c>).
/// </summary>
internal sealed record ForwardingTarget(string Listener, string Authority, string Destination, string Audience, AuthHeaderMode? Header = null)
{
    /// <summary>The route label of every request the egress listener takes.</summary>
    public const string EgressListener = "egress";

    public static ForwardingTarget ForRoute(RouteSpec route) =>
        new(route.ListenPort.ToString(CultureInfo.InvariantCulture), route.Authority, route.Upstream.ToString(), route.Audience, route.Header);

    /// <summary>An egress request to <paramref name="host"/> (canonical), always over TLS on port 443.</summary>
    public static ForwardingTarget ForEgress(string host, string audience, AuthHeaderMode? header) =>
        new(EgressListener, host, "https://" + host + "/", audience, header);
}
