using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace TokenInjector.Tests.Support;

/// <summary>
/// A byte-for-byte TCP relay on a fixed loopback port in front of a real server, for network faults between a
/// client and that server: it can refuse connections (<see cref="StopListening"/>), listen again on the same port
/// (<see cref="StartListening"/>), and reset every open connection in both directions (<see cref="ResetConnections"/>),
/// as a dropped load balancer or a restarted peer would. TLS passes through untouched, so the client still
/// verifies the server's own certificate.
/// </summary>
internal sealed class TcpRelay : IDisposable
{
    private readonly ConcurrentDictionary<Socket, byte> _open = new();
    private readonly Lock _gate = new();
    private Socket? _listener;

    /// <summary>The relay's port; refused until <see cref="StartListening"/>.</summary>
    public int Port { get; } = FreePort.Next();

    /// <summary>The server to relay to; set before the first connection arrives.</summary>
    public IPEndPoint? Target { get; set; }

    public void StartListening()
    {
        lock (_gate)
        {
            if (_listener is not null)
            {
                return;
            }

            var listener = new Socket(SocketType.Stream, ProtocolType.Tcp);
            listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            listener.Bind(new IPEndPoint(IPAddress.Loopback, Port));
            listener.Listen(128);
            _listener = listener;
            _ = AcceptLoopAsync(listener);
        }
    }

    /// <summary>Closes the listening socket (new connections are refused) and resets every open connection.</summary>
    public void StopListening()
    {
        lock (_gate)
        {
            _listener?.Dispose();
            _listener = null;
        }

        ResetConnections();
    }

    /// <summary>Ends every open connection with a TCP reset on both sides; the relay keeps listening.</summary>
    public void ResetConnections()
    {
        foreach (var socket in _open.Keys)
        {
            Reset(socket);
        }
    }

    public void Dispose() => StopListening();

    private static void Reset(Socket socket)
    {
        if (!socket.Connected)
        {
            socket.Dispose();
            return;
        }

        try
        {
            // Linger on with a zero timeout makes close send RST instead of FIN.
            socket.LingerState = new LingerOption(true, 0);
        }
        catch (SocketException)
        {
            // Already gone: disposing is all that is left.
        }
        catch (ObjectDisposedException)
        {
            return;
        }

        socket.Dispose();
    }

    private async Task AcceptLoopAsync(Socket listener)
    {
        while (true)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync();
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                return;
            }

            _ = RelayAsync(client);
        }
    }

    private async Task RelayAsync(Socket client)
    {
        var server = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        client.NoDelay = true;
        _open[client] = 0;
        _open[server] = 0;
        try
        {
            await server.ConnectAsync(Target ?? throw new InvalidOperationException("the relay has no target"));
            await Task.WhenAny(PumpAsync(client, server), PumpAsync(server, client));
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // The target refused or the relay was reset: the client sees its connection end.
        }
        finally
        {
            _open.TryRemove(client, out _);
            _open.TryRemove(server, out _);
            client.Dispose();
            server.Dispose();
        }
    }

    private static async Task PumpAsync(Socket from, Socket to)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await from.ReceiveAsync(buffer)) > 0)
            {
                await to.SendAsync(buffer.AsMemory(0, read));
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // One side went away; the caller tears down both.
        }
    }
}
