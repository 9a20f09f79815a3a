using System.Net;
using System.Net.Sockets;

namespace TokenInjector.DevStack.Network;

/// <summary>
/// Free loopback ports, found by binding port 0 and letting it go just before someone else binds it. Where a program
/// can listen on port 0 and say which port it got, that is better: it cannot race.
/// </summary>
internal static class FreePort
{
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Distinct free ports (the OS could otherwise hand back one it just released).</summary>
    public static int[] Take(int count)
    {
        var ports = new HashSet<int>();
        while (ports.Count < count)
        {
            ports.Add(Next());
        }

        return [.. ports];
    }
}
