using System.Net.Sockets;

namespace TokenInjector.Plumbing;

/// <summary>An <see cref="HttpClient"/> whose every connection goes to one Unix socket.</summary>
internal static class UnixSocketHttpClient
{
    /// <summary>The host name used in request URIs; the socket decides where they go.</summary>
    public static readonly Uri BaseAddress = new("http://localhost/");

    public static HttpClient Create(string socketPath, TimeSpan timeout) => new(new SocketsHttpHandler
    {
        ConnectCallback = async (_, cancellationToken) =>
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    })
    {
        BaseAddress = BaseAddress,
        Timeout = timeout,
    };
}
