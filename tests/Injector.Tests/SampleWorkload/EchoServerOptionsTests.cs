using System.Net;
using TokenInjector.SampleWorkload.Server;

namespace TokenInjector.Tests.SampleWorkload;

public sealed class EchoServerOptionsTests
{
    [Theory]
    [InlineData(null, 8080)]
    [InlineData("", 8080)]
    [InlineData("9000", 9000)]
    public void FromEnvironment_Port_ListensOnEveryInterface(string? port, int expected)
    {
        var options = EchoServerOptions.FromEnvironment(name => name == "PORT" ? port : null, out var error);

        Assert.Null(error);
        Assert.Equal(new IPEndPoint(IPAddress.Any, expected), options!.Listen);
    }

    [Theory]
    [InlineData("http")]
    [InlineData("0")]
    [InlineData("65536")]
    [InlineData("-1")]
    public void FromEnvironment_BadPort_IsAnErrorNamingTheValue(string port)
    {
        var options = EchoServerOptions.FromEnvironment(name => name == "PORT" ? port : null, out var error);

        Assert.Null(options);
        Assert.Contains($"PORT='{port}'", error, StringComparison.Ordinal);
    }
}
