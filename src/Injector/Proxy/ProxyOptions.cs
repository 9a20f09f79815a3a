using System.Net;
using TokenInjector.Configuration;

namespace TokenInjector.Proxy;

/// <summary>The routes, where their listeners bind, and how upstreams are reached and trusted.</summary>
internal sealed record ProxyOptions(
    IReadOnlyList<RouteSpec> Routes,
    IReadOnlyList<ResolveSpec> Resolves,
    IPAddress ListenAddress,
    string? UpstreamCaFile,
    AuthHeaderMode AuthHeader);
