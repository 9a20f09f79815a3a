using System.Net;
using System.Net.Sockets;

namespace TokenInjector.Demo.Processes;

/// <summary>Free loopback ports, found by binding port 0 and letting it go just before the child binds it.</summary>
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
