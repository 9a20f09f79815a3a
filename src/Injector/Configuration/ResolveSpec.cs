using System.Globalization;
using System.Net;

namespace TokenInjector.Configuration;

/// <summary>
/// As curl's <c>--resolve</c>: connections to <see cref="Host"/>:<see cref="Port"/> go to <see cref="Address"/>,
/// while TLS still verifies the certificate for <see cref="Host"/> (Private Service Connect endpoints, tests).
/// </summary>
internal sealed record ResolveSpec(string Host, int Port, IPAddress Address)
{
    public const string Syntax = "HOST:PORT:ADDRESS";

    public static bool TryParse(string text, out ResolveSpec? resolve)
    {
        resolve = null;
        var firstColon = text.IndexOf(':', StringComparison.Ordinal);
        var secondColon = firstColon < 0 ? -1 : text.IndexOf(':', firstColon + 1);
        if (firstColon <= 0 || secondColon < 0)
        {
            return false;
        }

        var host = text[..firstColon];
        var addressText = text[(secondColon + 1)..].Trim('[', ']');
        if (!int.TryParse(text.AsSpan(firstColon + 1, secondColon - firstColon - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port)
            || port is < 1 or > 65535
            || Uri.CheckHostName(host) is UriHostNameType.Unknown
            || !IPAddress.TryParse(addressText, out var address))
        {
            return false;
        }

        resolve = new ResolveSpec(host.ToLowerInvariant(), port, address);
        return true;
    }
}
