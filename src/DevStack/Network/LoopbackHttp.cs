using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using TokenInjector.Plumbing;

namespace TokenInjector.DevStack.Network;

/// <summary>
/// HTTP handlers for what runs on this machine: a client of a Unix socket whatever the URL says (the token API), and
/// a handler that dials a fixed loopback endpoint whatever the URL's host (as curl's <c>--resolve</c>, so that real
/// service names keep their SNI and authority) and trusts a private CA alone.
/// </summary>
internal static class LoopbackHttp
{
    /// <summary>An HTTP client of the Unix socket at <paramref name="socketPath"/>; the URL's host is ignored.</summary>
    public static HttpClient UnixSocketClient(string socketPath, TimeSpan timeout) => UnixSocketHttpClient.Create(socketPath, timeout);

    /// <summary>
    /// A handler that connects to <paramref name="connectTo"/> (when given) and verifies the server's certificate
    /// against <paramref name="trustedCa"/> alone (when given): the name is checked, revocation is not (a throwaway CA
    /// publishes no list), and nothing is ever accepted unverified.
    /// </summary>
    public static SocketsHttpHandler Handler(IPEndPoint? connectTo = null, X509Certificate2? trustedCa = null) =>
        Handler(connectTo, trustedCa is null ? null : [trustedCa]);

    /// <summary>
    /// As <see cref="Handler(IPEndPoint?, X509Certificate2?)"/>, trusting every CA of <paramref name="trusted"/> (a
    /// webhook configuration's caBundle) and, when <paramref name="verificationTime"/> is given, checking validity
    /// at that time (a test's clock) rather than now.
    /// </summary>
    public static SocketsHttpHandler Handler(IPEndPoint? connectTo, X509Certificate2Collection? trusted, DateTimeOffset? verificationTime = null)
    {
        var handler = new SocketsHttpHandler { UseProxy = false };
        if (connectTo is not null)
        {
            handler.ConnectCallback = (_, cancellationToken) => ConnectAsync(connectTo, cancellationToken);
        }

        if (trusted is not null)
        {
            var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
            policy.CustomTrustStore.AddRange(trusted);
            if (verificationTime is { } time)
            {
                policy.VerificationTime = time.UtcDateTime;
            }

            handler.SslOptions = new SslClientAuthenticationOptions { CertificateChainPolicy = policy };
        }

        return handler;
    }

    private static async ValueTask<Stream> ConnectAsync(IPEndPoint endpoint, CancellationToken cancellationToken)
    {
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(endpoint, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
