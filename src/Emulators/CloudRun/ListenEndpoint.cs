using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;

namespace TokenInjector.Emulators.CloudRun;

/// <summary>A parsed HOST:PORT listen address; HOST is an IP literal, <c>localhost</c>, or <c>*</c> for every interface.</summary>
internal sealed record ListenEndpoint(IPAddress? Address, bool IsLocalhost, int Port)
{
    public static bool TryParse(string? value, [NotNullWhen(true)] out ListenEndpoint? endpoint)
    {
        endpoint = null;
        if (string.IsNullOrEmpty(value))
        {
            return false;
        }

        var colon = value.LastIndexOf(':');
        if (colon <= 0
            || !int.TryParse(value.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port)
            || port > IPEndPoint.MaxPort)
        {
            return false;
        }

        var host = value[..colon];
        if (host is "*" or "0.0.0.0")
        {
            endpoint = new ListenEndpoint(IPAddress.Any, false, port);
            return true;
        }

        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            endpoint = new ListenEndpoint(null, true, port);
            return true;
        }

        if (host.StartsWith('[') && host.EndsWith(']'))
        {
            host = host[1..^1];
        }

        if (!IPAddress.TryParse(host, out var address))
        {
            return false;
        }

        endpoint = new ListenEndpoint(address, false, port);
        return true;
    }
}
