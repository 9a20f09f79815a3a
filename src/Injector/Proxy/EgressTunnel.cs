namespace TokenInjector.Proxy;

/// <summary>
/// A connection feature: this connection is a tunnel that <see cref="ConnectTunnel"/> opened to <see cref="Host"/>
/// (canonical, port 80), so every request on it must name that host or none.
/// </summary>
internal sealed record EgressTunnel(string Host);
