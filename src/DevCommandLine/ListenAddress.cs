using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;

namespace TokenInjector.DevCommandLine;

/// <summary>
/// Where a dev server listens, written <c>HOST:PORT</c>, the one syntax of every emulator's <c>--listen</c>: HOST is an
/// IP address (IPv6 in brackets, <c>[::1]:8080</c>, since a bare one makes the port ambiguous), <c>localhost</c>, or
/// <c>*</c> for every interface; PORT is 0 to 65535, 0 for any free port.
/// </summary>
/// <param name="Address">The address to bind; for <c>localhost</c>, IPv4's loopback.</param>
/// <param name="Port">The port; 0 for any free one.</param>
/// <param name="IsLocalhost">Written as <c>localhost</c>: a server that can should bind both loopbacks.</param>
public sealed record ListenAddress(IPAddress Address, int Port, bool IsLocalhost)
{
    /// <summary>What a bad value is told it should have been.</summary>
    public const string Expected = "HOST:PORT with an IP address (IPv6 in brackets), localhost or *, and a port from 0 to 65535";

    public static bool TryParse(string? text, [NotNullWhen(true)] out ListenAddress? address)
    {
        address = null;
        var colon = text?.LastIndexOf(':') ?? -1;
        if (text is null || colon <= 0
            || !int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > IPEndPoint.MaxPort)
        {
            return false;
        }

        var host = text[..colon];
        if (host == "*")
        {
            address = new ListenAddress(IPAddress.Any, port, IsLocalhost: false);
            return true;
        }

        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            address = new ListenAddress(IPAddress.Loopback, port, IsLocalhost: true);
            return true;
        }

        var bracketed = host.StartsWith('[') && host.EndsWith(']');
        if (!bracketed && host.Contains(':', StringComparison.Ordinal))
        {
            return false;
        }

        if (!IPAddress.TryParse(bracketed ? host[1..^1] : host, out var ip) || bracketed != (ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6))
        {
            return false;
        }

        address = new ListenAddress(ip, port, IsLocalhost: false);
        return true;
    }
}
