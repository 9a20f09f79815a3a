using System.Net;
using TokenInjector.DevCommandLine;

namespace TokenInjector.Tests.DevCommandLine;

/// <summary>The one listen-address syntax of the emulators (<c>--listen HOST:PORT</c>), one named row each.</summary>
public sealed class ListenAddressTests
{
    public static TheoryData<string, string, string, int, bool> Accepted => new()
    {
        { "IPv4 loopback, any free port", "127.0.0.1:0", "127.0.0.1", 0, false },
        { "every IPv4 interface", "0.0.0.0:8080", "0.0.0.0", 8080, false },
        { "every interface as *", "*:8080", "0.0.0.0", 8080, false },
        { "localhost, any case", "LocalHost:9000", "127.0.0.1", 9000, true },
        { "IPv6 in brackets", "[::1]:9000", "::1", 9000, false },
        { "highest port", "127.0.0.1:65535", "127.0.0.1", 65535, false },
    };

    [Theory]
    [MemberData(nameof(Accepted))]
    public void TryParse_ListenAddress_GivesWhereToBind(string name, string text, string address, int port, bool isLocalhost)
    {
        Assert.True(ListenAddress.TryParse(text, out var parsed), name);
        Assert.Equal(new ListenAddress(IPAddress.Parse(address), port, isLocalhost), parsed);
    }

    public static TheoryData<string, string?> Refused => new()
    {
        { "nothing", null },
        { "empty", "" },
        { "no port", "127.0.0.1" },
        { "no host", ":8080" },
        { "IPv6 without brackets: the port is ambiguous", "::1:9000" },
        { "IPv4 in brackets", "[127.0.0.1]:9000" },
        { "port past 65535", "127.0.0.1:70000" },
        { "signed port", "127.0.0.1:+80" },
        { "port with a space", "127.0.0.1: 80" },
        { "a name other than localhost", "metadata.google.internal:80" },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public void TryParse_NotAListenAddress_IsRefused(string name, string? text)
    {
        Assert.False(ListenAddress.TryParse(text, out var parsed), $"{name}: accepted as {parsed}");
    }
}
