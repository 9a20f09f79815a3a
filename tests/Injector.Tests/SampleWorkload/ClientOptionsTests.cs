using TokenInjector.SampleWorkload.Client;

namespace TokenInjector.Tests.SampleWorkload;

public sealed class ClientOptionsTests
{
    private static readonly Dictionary<string, string> NoEnvironment = [];

    [Fact]
    public void Parse_NoArguments_TakesTheLowestPortedRouteVariable()
    {
        var environment = new Dictionary<string, string>
        {
            ["TOKEN_INJECTOR_ROUTE_9090"] = "http://127.0.0.1:9090",
            ["TOKEN_INJECTOR_ROUTE_8080"] = "http://127.0.0.1:8080",
            ["TOKEN_INJECTOR_ROUTE_X"] = "http://ignored",
            ["TOKEN_INJECTOR_SOCKET"] = "/var/run/token-injector/token.sock",
        };

        var options = ClientOptions.Parse([], environment, out var errors);

        Assert.Empty(errors);
        Assert.Equal(new Uri("http://127.0.0.1:8080"), options!.Target);
        Assert.Equal(5, options.Rate);
        Assert.Null(options.Duration);
    }

    [Fact]
    public void Parse_TargetOption_OverridesTheEnvironment()
    {
        var environment = new Dictionary<string, string> { ["TOKEN_INJECTOR_ROUTE_8080"] = "http://127.0.0.1:8080" };

        var options = ClientOptions.Parse(
            ["--target", "http://127.0.0.1:7000", "--rate=20", "--duration", "2.5", "--stream-messages", "3"], environment, out var errors);

        Assert.Empty(errors);
        Assert.Equal(new Uri("http://127.0.0.1:7000"), options!.Target);
        Assert.Equal(20, options.Rate);
        Assert.Equal(TimeSpan.FromSeconds(2.5), options.Duration);
        Assert.Equal(3, options.StreamMessages);
    }

    [Fact]
    public void Parse_BadArguments_ReportsEveryError()
    {
        var options = ClientOptions.Parse(["--rate", "0", "--duration", "soon", "--colour", "red", "stray"], NoEnvironment, out var errors);

        Assert.Null(options);
        Assert.Collection(
            errors.Order(StringComparer.Ordinal),
            error => Assert.StartsWith("--duration='soon'", error, StringComparison.Ordinal),
            error => Assert.StartsWith("--rate='0'", error, StringComparison.Ordinal),
            error => Assert.StartsWith("no target", error, StringComparison.Ordinal),
            error => Assert.Equal("unexpected argument 'stray'", error),
            error => Assert.Equal("unknown option --colour", error));
    }

    [Theory]
    [InlineData("127.0.0.1:8080")]
    [InlineData("unix:///tmp/socket")]
    public void Parse_TargetNotHttpUrl_IsAnError(string target)
    {
        var options = ClientOptions.Parse(["--target", target], NoEnvironment, out var errors);

        Assert.Null(options);
        Assert.Contains(errors, error => error.Contains("is not an http:// or https:// URL", StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_FractionalStreamMessages_IsAnError()
    {
        var options = ClientOptions.Parse(["--target", "http://127.0.0.1:1", "--stream-messages", "1.5"], NoEnvironment, out var errors);

        Assert.Null(options);
        Assert.Equal(["--stream-messages='1.5' must be a whole number from 1 to 1000000"], errors);
    }

    [Fact]
    public void Parse_Help_ReturnsNoOptionsAndNoErrors()
    {
        var options = ClientOptions.Parse(["--rate", "bad", "--help"], NoEnvironment, out var errors);

        Assert.Null(options);
        Assert.Empty(errors);
    }
}
