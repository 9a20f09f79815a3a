using System.Net;
using Yarp.ReverseProxy.Forwarder;

namespace TokenInjector.Proxy;

/// <summary>
/// The proxy listeners' log events (event ids 400–499). <c>Route</c> is a route's local port or <c>egress</c>. Tokens
/// never appear in them.
/// </summary>
internal static partial class ProxyLog
{
    [LoggerMessage(EventId = 400, Level = LogLevel.Warning, Message = "Route {Route}: no usable token for {Audience}; answered without forwarding")]
    public static partial void NoToken(this ILogger logger, string route, string audience);

    [LoggerMessage(EventId = 401, Level = LogLevel.Warning, Message = "Route {Route}: upstream {Upstream} failed ({Error}): {Reason}")]
    public static partial void UpstreamFailed(this ILogger logger, string route, string upstream, ForwarderError error, string reason);

    [LoggerMessage(EventId = 402, Level = LogLevel.Warning, Message = "Route {Route}: upstream answered 401 to a token for {Audience}; asking for an early refresh")]
    public static partial void UpstreamRejected(this ILogger logger, string route, string audience);

    // Debug: the app gets the reason in the answer, and metrics count refusals; an app retrying a refused host in a
    // loop must not flood the pod's log.
    [LoggerMessage(EventId = 403, Level = LogLevel.Debug, Message = "Egress: refused with {Status}: {Reason}")]
    public static partial void EgressRefused(this ILogger logger, int status, string reason);

    [LoggerMessage(EventId = 410, Level = LogLevel.Information, Message = "Route {Address}:{Port} -> https://{Upstream} with tokens for {Audience}")]
    public static partial void RouteListening(this ILogger logger, IPAddress address, int port, string upstream, string audience);

    [LoggerMessage(EventId = 411, Level = LogLevel.Information, Message = "Stopping routes: no new connections; letting in-flight calls finish")]
    public static partial void Draining(this ILogger logger);

    [LoggerMessage(EventId = 412, Level = LogLevel.Information, Message = "Egress {Address}:{Port} -> https://HOST for the hosts {Allowlist}")]
    public static partial void EgressListening(this ILogger logger, IPAddress address, int port, string allowlist);
}
