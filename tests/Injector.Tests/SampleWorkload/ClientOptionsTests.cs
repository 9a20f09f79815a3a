using TokenInjector.DevCommandLine;
using TokenInjector.SampleWorkload;
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

        var (options, errors) = ClientCommand.Parse([], environment);

        Assert.Empty(errors);
        Assert.Equal(new Uri("http://127.0.0.1:8080"), options!.Target);
        Assert.Equal(5, options.Rate);
        Assert.Null(options.Duration);
    }

    [Fact]
    public void Parse_TargetOption_OverridesTheEnvironment()
    {
        var environment = new Dictionary<string, string> { ["TOKEN_INJECTOR_ROUTE_8080"] = "http://127.0.0.1:8080" };

        var (options, errors) = ClientCommand.Parse(
            ["--target", "http://127.0.0.1:7000", "--rate=20", "--duration", "2.5s", "--stream-messages", "3"], environment);

        Assert.Empty(errors);
        Assert.Equal(new Uri("http://127.0.0.1:7000"), options!.Target);
        Assert.Equal(20, options.Rate);
        Assert.Equal(TimeSpan.FromSeconds(2.5), options.Duration);
        Assert.Equal(3, options.StreamMessages);
    }

    [Fact]
    public void Parse_BadArguments_ReportsEveryError()
    {
        var (options, errors) = ClientCommand.Parse(["--rate", "0", "--duration", "soon", "--colour", "red", "stray"], NoEnvironment);

        Assert.Null(options);
        Assert.Equal(
            [
                "unknown option '--colour' (see 'client --help')", "unexpected argument 'stray': options start with -- (see 'client --help')",
                "--rate: '0' is not a number from 0.01 to 1000", "--duration: 'soon' is not a duration from 100ms to 31536000s (write e.g. 500ms, 30s, 10m)",
            ],
            errors);
    }

    [Fact]
    public void Parse_NoTargetAnywhere_SaysWhereOneComesFrom()
    {
        var (options, errors) = ClientCommand.Parse(["--rate", "2"], NoEnvironment);

        Assert.Null(options);
        Assert.StartsWith("no target: pass --target URL, or set TOKEN_INJECTOR_ROUTE_<PORT>", Assert.Single(errors), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("127.0.0.1:8080")]
    [InlineData("unix:///tmp/socket")]
    public void Parse_TargetNotHttpUrl_IsAnError(string target)
    {
        var (options, errors) = ClientCommand.Parse(["--target", target], NoEnvironment);

        Assert.Null(options);
        Assert.Contains(errors, error => error.Contains("is not an http:// or https:// URL", StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_FractionalStreamMessages_IsAnError()
    {
        var (options, errors) = ClientCommand.Parse(["--target", "http://127.0.0.1:1", "--stream-messages", "1.5"], NoEnvironment);

        Assert.Null(options);
        Assert.Equal(["--stream-messages: '1.5' is not a whole number from 1 to 1000000"], errors);
    }

    [Fact]
    public async Task Help_PrintsUsageOnStdout_ExitsZero_EvenBesideABadValue()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        var exitCode = await DevCommand.InvokeAsync(
            SampleWorkloadCommand.Create(NoEnvironment, TimeProvider.System), ["client", "--rate", "bad", "--help"], output, error, CancellationToken.None);

        Assert.Equal(0, exitCode);
        Assert.Contains("sample-workload client [options]", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("--stream-interval <DURATION>", output.ToString(), StringComparison.Ordinal);
        Assert.Empty(error.ToString());
    }
}
