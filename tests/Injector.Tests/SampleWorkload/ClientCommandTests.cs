using System.Text.RegularExpressions;
using TokenInjector.DevCommandLine;
using TokenInjector.SampleWorkload;
using TokenInjector.SampleWorkload.Protos;

namespace TokenInjector.Tests.SampleWorkload;

[Collection(EchoServerGroup.Name)]
public sealed partial class ClientCommandTests(EchoServerFixture server)
{
    private static readonly Dictionary<string, string> NoEnvironment = [];

    [Fact]
    public async Task Run_AgainstServerFromRouteVariable_ReportsOkCallsAndExitsZero()
    {
        // Warm the server's code paths so the two seconds measure calls, not JIT on a loaded machine.
        await server.Client.UnaryAsync(new EchoRequest(), deadline: EchoServerFixture.Deadline()).ResponseAsync.WaitAsync(EchoServerFixture.Timeout);
        var environment = new Dictionary<string, string> { [$"TOKEN_INJECTOR_ROUTE_{server.Address.Port}"] = server.Address.ToString() };
        using var output = new StringWriter();
        using var error = new StringWriter();

        var exitCode = await RunAsync(
            ["--rate", "20", "--duration", "2s", "--stream-messages", "3", "--stream-interval", "50ms"],
            environment, output, error, TimeProvider.System, CancellationToken.None).WaitAsync(EchoServerFixture.Timeout);

        var text = output.ToString();
        Assert.True(exitCode == 0, text + error);
        var summary = SummaryLine().Match(text);
        Assert.True(summary.Success, text);
        Assert.True(long.Parse(summary.Groups["ok"].Value, System.Globalization.CultureInfo.InvariantCulture) > 0, text);
        Assert.Equal("0", summary.Groups["failed"].Value);
        Assert.Equal("-", summary.Groups["identities"].Value);
        Assert.Matches(@"^\[ *\d+s\] ok=\d+ failed=0 \| streams ok=", text.Split('\n')[1]);
    }

    [Fact]
    public async Task Run_StoppedOnceAStreamCompleted_CountsItAndExitsZero()
    {
        using var stop = new CancellationTokenSource();
        using var output = new LineSignallingWriter(line => StreamCompleted().IsMatch(line));
        using var error = new StringWriter();

        var run = RunAsync(
            ["--target", server.Address.ToString(), "--rate", "20", "--duration", "600s", "--stream-messages", "2", "--stream-interval", "10ms"],
            NoEnvironment, output, error, TimeProvider.System, stop.Token);
        await output.Matched.WaitAsync(EchoServerFixture.Timeout);
        await stop.CancelAsync();
        var exitCode = await run.WaitAsync(EchoServerFixture.Timeout);

        var summary = SummaryLine().Match(output.ToString());
        Assert.Equal(0, exitCode);
        Assert.True(summary.Success, output.ToString());
        Assert.NotEqual("0", summary.Groups["streams"].Value);
    }

    [Fact]
    public async Task Run_NothingListening_CountsFailuresAndExitsOne()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        var exitCode = await RunAsync(
            ["--target", $"http://127.0.0.1:{FreePort.Next()}", "--rate", "10", "--duration", "1s"],
            NoEnvironment, output, error, TimeProvider.System, CancellationToken.None).WaitAsync(EchoServerFixture.Timeout);

        var text = output.ToString();
        Assert.Equal(1, exitCode);
        Assert.NotEqual("0", SummaryLine().Match(text).Groups["failed"].Value);
        Assert.Contains("Unavailable", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_NoTarget_ExitsTwoWithTheReason()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        var exitCode = await RunAsync([], NoEnvironment, output, error, TimeProvider.System, CancellationToken.None)
            .WaitAsync(EchoServerFixture.Timeout);

        Assert.Equal(2, exitCode);
        Assert.Contains("TOKEN_INJECTOR_ROUTE_<PORT>", error.ToString(), StringComparison.Ordinal);
    }


    private static Task<int> RunAsync(
        string[] args, IReadOnlyDictionary<string, string> environment, TextWriter output, TextWriter error, TimeProvider time, CancellationToken stop) =>
        DevCommand.InvokeAsync(SampleWorkloadCommand.Create(environment, time), ["client", .. args], output, error, stop);

    [GeneratedRegex(@"streams ok=[1-9]")]
    private static partial Regex StreamCompleted();

    [GeneratedRegex(@"^summary: ok=(?<ok>\d+) failed=(?<failed>\d+) streams_ok=(?<streams>\d+) identities=(?<identities>\S+)\r?$", RegexOptions.Multiline)]
    private static partial Regex SummaryLine();
}
