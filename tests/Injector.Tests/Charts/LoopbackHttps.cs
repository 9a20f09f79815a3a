using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;

namespace TokenInjector.Tests.Charts;

/// <summary>
/// An HTTP client for names a cluster would resolve (a Service's DNS name): every connection goes to loopback, where
/// the process stands in for the pod, and HTTPS trusts only the given CA and checks the name in the URI.
/// </summary>
internal static class LoopbackHttps
{
    /// <param name="trusted">The only CA certificates trusted (a caBundle).</param>
    /// <param name="timeout">The time limit of each request.</param>
    /// <param name="port">The port connections go to; by default the URI's.</param>
    public static HttpClient Client(X509Certificate2Collection trusted, TimeSpan timeout, int? port = null)
    {
        var chain = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
        chain.CustomTrustStore.AddRange(trusted);
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
                await socket.ConnectAsync(IPAddress.Loopback, port ?? context.DnsEndPoint.Port, cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            },
            SslOptions = new SslClientAuthenticationOptions { CertificateChainPolicy = chain },
        };
        return new HttpClient(handler) { Timeout = timeout };
    }
}
