using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace TokenInjector.DevStack.Network;

/// <summary>
/// Free loopback ports for a listener that is started a little later (where a program can listen on port 0 and say
/// which port it got, that is better: it cannot race). A port is picked below the kernel's ephemeral range, the range
/// it hands out for port-0 binds and for the local end of every outgoing connection: a port taken from that range
/// and let go could be given to some connection of the machine before its listener binds it. Below the range only
/// another pick can take it, and picks go round the range from a place of this process's own, so no port is handed
/// out twice in a run. Each is checked free by binding it.
/// </summary>
internal static class FreePort
{
    private const int LowestPort = 10000;
    private static readonly (int First, int Count) Range = BelowEphemeralRange();
    private static int _cursor = (int)((long)Environment.ProcessId * 7919 % Math.Max(Range.Count, 1));

    public static int Next()
    {
        for (var tried = 0; tried < Range.Count; tried++)
        {
            var port = Range.First + (int)((uint)Interlocked.Increment(ref _cursor) % (uint)Range.Count);
            if (IsFree(port))
            {
                return port;
            }
        }

        // No range below the ephemeral one (an unusual kernel setting): the kernel's pick.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Distinct free ports.</summary>
    public static int[] Take(int count)
    {
        var ports = new HashSet<int>();
        while (ports.Count < count)
        {
            ports.Add(Next());
        }

        return [.. ports];
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    // /proc/sys/net/ipv4/ip_local_port_range is "FIRST LAST" (32768 60999 by default); elsewhere IANA's 49152.
    private static (int First, int Count) BelowEphemeralRange()
    {
        var ephemeralFirst = 49152;
        try
        {
            var fields = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            ephemeralFirst = int.Parse(fields[0], CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
        }

        return (LowestPort, Math.Max(ephemeralFirst - LowestPort, 0));
    }
}
