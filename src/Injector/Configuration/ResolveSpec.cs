using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace TokenInjector.Configuration;

/// <summary>
/// As curl's <c>--resolve</c>: connections to <see cref="Host"/>:<see cref="Port"/> go to <see cref="Address"/>,
/// while TLS still verifies the certificate for <see cref="Host"/> (Private Service Connect endpoints, tests). A fourth
/// field sends them to another port as well (<c>svc.run.app:443:127.0.0.1:8443</c>, as curl's <c>--connect-to</c>):
/// the egress listener always forwards to port 443, and a local stand-in for the service rarely listens there.
/// </summary>
internal sealed record ResolveSpec(string Host, int Port, IPAddress Address, int ConnectPort)
{
    public const string Syntax = "HOST:PORT:ADDRESS[:PORT]";

    public static bool TryParse(string text, out ResolveSpec? resolve)
    {
        resolve = null;
        var firstColon = text.IndexOf(':', StringComparison.Ordinal);
        var secondColon = firstColon < 0 ? -1 : text.IndexOf(':', firstColon + 1);
        if (firstColon <= 0 || secondColon < 0)
        {
            return false;
        }

        // ADDRESS[:PORT] as an endpoint: 127.0.0.1, 127.0.0.1:8443, ::1, [::1], [::1]:8443 (an IPv6 address with a
        // port takes brackets, as in a URL). No port, or port 0, keeps PORT.
        // HOST in the form routes and the egress allowlist name it (HostName), so that the same host matches however
        // it was written; an IPv4 address as Uri writes a route's.
        var host = IPAddress.TryParse(text[..firstColon], out var hostAddress) && hostAddress.AddressFamily == AddressFamily.InterNetwork
            ? hostAddress.ToString()
            : HostName.TryCanonical(text[..firstColon], out var name, out _) ? name : null;
        if (host is null
            || !int.TryParse(text.AsSpan(firstColon + 1, secondColon - firstColon - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port)
            || port is < 1 or > 65535
            || !IPEndPoint.TryParse(text.AsSpan(secondColon + 1), out var endpoint))
        {
            return false;
        }

        resolve = new ResolveSpec(host, port, endpoint.Address, endpoint.Port == 0 ? port : endpoint.Port);
        return true;
    }
}
