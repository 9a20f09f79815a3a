using TokenInjector.Demo;
using TokenInjector.Demo.Observing;
using TokenInjector.Demo.Processes;

namespace TokenInjector.Tests.Demo;

public sealed class DemoOptionsTests
{
    [Fact]
    public void Parse_NoArguments_RunsAMinuteWithTwentySecondTokens()
    {
        var options = DemoOptions.Parse([], out var errors);

        Assert.Empty(errors);
        Assert.Equal(TimeSpan.FromSeconds(60), options!.Duration);
        Assert.Equal(20, options.TokenLifetimeSeconds);
    }

    [Fact]
    public void Parse_BothFlagForms_AreRead()
    {
        var options = DemoOptions.Parse(["--duration", "25", "--rate=2.5", "--token-lifetime", "30"], out var errors);

        Assert.Empty(errors);
        Assert.Equal(TimeSpan.FromSeconds(25), options!.Duration);
        Assert.Equal(2.5, options.Rate);
        Assert.Equal(30, options.TokenLifetimeSeconds);
    }

    [Fact]
    public void Parse_EveryProblem_IsReportedAtOnce()
    {
        var options = DemoOptions.Parse(["--duration", "0", "--token-lifetime", "5", "--bogus", "1"], out var errors);

        Assert.Null(options);
        Assert.Equal(3, errors.Count);
    }

    [Fact]
    public void Parse_Help_IsNullWithoutErrors()
    {
        Assert.Null(DemoOptions.Parse(["--help"], out var errors));
        Assert.Empty(errors);
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(1, 0)]
    [InlineData(4, 3)]
    public void Refreshes_AreTheFetchesAfterTheFirst(double fetches, long refreshes)
    {
        Assert.Equal(refreshes, LiveView.Refreshes(fetches));
    }

    [Fact]
    public void Row_ShowsCallsExpiryRefreshesAndIdentity()
    {
        var now = DateTimeOffset.FromUnixTimeSeconds(1763935000);
        var client = new ClientStatus(58, 1, 1, 1, 22, "app@p.iam.gserviceaccount.com", null);
        var sidecar = new SidecarReading(1763935009, SuccessfulFetches: 3, FailedFetches: 0, ProxyRequests: 60);

        var row = LiveView.Row(TimeSpan.FromSeconds(12), client, sidecar, now);

        Assert.Equal("   12s |            58 / 2 |          22 |      21:56:49Z (in 9 s) |         2 | app@p.iam.gserviceaccount.com", row);
    }

    [Fact]
    public void BuildOutputs_MirrorTheDemosOwnOutputPath()
    {
        var outputs = BuildOutputs.Locate("/repo/src/Demo/bin/Release/net10.0/");

        Assert.Equal("/repo/src/Injector/bin/Release/net10.0/injector.dll", outputs.Injector);
        Assert.Equal("/repo/src/Emulators/bin/Release/net10.0/emulators.dll", outputs.Emulators);
        Assert.Equal("/repo/src/SampleWorkload/bin/Release/net10.0/sample-workload.dll", outputs.SampleWorkload);
    }
}
