using System.Net;
using Yarp.ReverseProxy.Forwarder;

namespace TokenInjector.Proxy;

/// <summary>The route listeners' log events (event ids 400–499). Tokens never appear in them.</summary>
internal static partial class ProxyLog
{
    [LoggerMessage(EventId = 400, Level = LogLevel.Warning, Message = "Route {Port}: no usable token for {Audience}; answered without forwarding")]
    public static partial void NoToken(this ILogger logger, int port, string audience);

    [LoggerMessage(EventId = 401, Level = LogLevel.Warning, Message = "Route {Port}: upstream {Upstream} failed ({Error}): {Reason}")]
    public static partial void UpstreamFailed(this ILogger logger, int port, string upstream, ForwarderError error, string reason);

    [LoggerMessage(EventId = 402, Level = LogLevel.Warning, Message = "Route {Port}: upstream answered 401 to a token for {Audience}; asking for an early refresh")]
    public static partial void UpstreamRejected(this ILogger logger, int port, string audience);

    [LoggerMessage(EventId = 410, Level = LogLevel.Information, Message = "Route {Address}:{Port} -> https://{Upstream} with tokens for {Audience}")]
    public static partial void RouteListening(this ILogger logger, IPAddress address, int port, string upstream, string audience);

    [LoggerMessage(EventId = 411, Level = LogLevel.Information, Message = "Stopping routes: no new connections; letting in-flight calls finish")]
    public static partial void Draining(this ILogger logger);
}
