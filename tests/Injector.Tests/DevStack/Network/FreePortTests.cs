using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace TokenInjector.Tests.DevStack.Network;

public sealed class FreePortTests
{
    [Fact]
    public void Picks_AreBelowTheKernelsEphemeralRange_DistinctAndFree()
    {
        var ephemeralFirst = int.Parse(File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split('\t', ' ')[0], CultureInfo.InvariantCulture);

        var ports = FreePort.Take(200);

        Assert.All(ports, port => Assert.InRange(port, 10000, ephemeralFirst - 1));
        Assert.Equal(ports.Length, ports.Distinct().Count());
        using var listener = new TcpListener(IPAddress.Loopback, ports[^1]);
        listener.Start();
    }
}
