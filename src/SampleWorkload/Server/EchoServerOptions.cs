using System.Globalization;
using System.Net;
using System.Security.Cryptography.X509Certificates;

namespace TokenInjector.SampleWorkload.Server;

/// <summary>
/// Where the echo server listens (port 0 picks a free port) and how much it logs. With a <paramref name="Certificate"/>
/// it serves TLS (HTTP/2 by ALPN) itself: a TLS upstream with no front end in between, for the proxy benchmark.
/// </summary>
internal sealed record EchoServerOptions(
    IPEndPoint Listen, LogLevel MinimumLogLevel = LogLevel.Information, X509Certificate2? Certificate = null)
{
    public const int DefaultPort = 8080;

    /// <summary>
    /// Cloud Run's contract: listen on every interface on <c>$PORT</c> (8080 when unset).
    /// Returns null and an error message when PORT is not a valid port number.
    /// </summary>
    public static EchoServerOptions? FromEnvironment(Func<string, string?> getEnvironmentVariable, out string? error)
    {
        error = null;
        var raw = getEnvironmentVariable("PORT");
        var port = DefaultPort;
        if (!string.IsNullOrWhiteSpace(raw)
            && (!int.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535))
        {
            error = $"PORT='{raw}' is not a port number (1-65535)";
            return null;
        }

        return new EchoServerOptions(new IPEndPoint(IPAddress.Any, port));
    }
}
