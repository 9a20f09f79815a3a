using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using TokenInjector.Configuration;

namespace TokenInjector.Proxy;

/// <summary>
/// The HTTP client routes forward through: TLS verified by <see cref="UpstreamTrust"/>, HTTP/2 by ALPN with more
/// connections when one is full, no proxy, no redirects, no decompression, <c>--resolve</c> applied at connect
/// time so that SNI and certificate checks still use the route's host name, and request flushes deferred until the
/// app's body would wait (<see cref="RequestFlushDeferral"/>).
/// </summary>
internal static class UpstreamClient
{
    public static HttpMessageInvoker Create(UpstreamTrust trust, IReadOnlyList<ResolveSpec> resolves) => new(new RequestFlushDeferral.Handler(new SocketsHttpHandler
    {
        UseProxy = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        UseCookies = false,
        EnableMultipleHttp2Connections = true,
        ConnectTimeout = TimeSpan.FromSeconds(10),
        ActivityHeadersPropagator = null,
        SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = trust.Validate },
        ConnectCallback = (context, cancellationToken) => ConnectAsync(context.DnsEndPoint, resolves, cancellationToken),
    }));

    private static async ValueTask<Stream> ConnectAsync(DnsEndPoint target, IReadOnlyList<ResolveSpec> resolves, CancellationToken cancellationToken)
    {
        var resolve = resolves.FirstOrDefault(r => r.Port == target.Port && string.Equals(r.Host, target.Host, StringComparison.OrdinalIgnoreCase));
        EndPoint endpoint = resolve is null ? target : new IPEndPoint(resolve.Address, resolve.ConnectPort);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
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
