using System.Net;
using TokenInjector.Configuration;

namespace TokenInjector.Proxy;

/// <summary>The routes and the egress listener, where they bind, and how upstreams are reached and trusted.</summary>
internal sealed record ProxyOptions(
    IReadOnlyList<RouteSpec> Routes,
    int? EgressPort,
    IReadOnlyList<EgressHostSpec> EgressHosts,
    IReadOnlyList<ResolveSpec> Resolves,
    IPAddress ListenAddress,
    string? UpstreamCaFile,
    AuthHeaderMode AuthHeader);
