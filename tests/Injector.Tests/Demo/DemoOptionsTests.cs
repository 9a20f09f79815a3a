using TokenInjector.Demo;
using TokenInjector.Demo.Observing;

namespace TokenInjector.Tests.Demo;

public sealed class DemoOptionsTests
{
    [Fact]
    public void Parse_NoArguments_RunsAMinuteWithTwentySecondTokens()
    {
        var (options, errors) = DemoCommand.Parse([]);

        Assert.Empty(errors);
        Assert.Equal(TimeSpan.FromSeconds(60), options!.Duration);
        Assert.Equal(TimeSpan.FromSeconds(20), options.TokenLifetime);
    }

    [Fact]
    public void Parse_BothFlagForms_AreRead()
    {
        var (options, errors) = DemoCommand.Parse(["--duration", "25s", "--rate=2.5", "--token-lifetime", "30s"]);

        Assert.Empty(errors);
        Assert.Equal(TimeSpan.FromSeconds(25), options!.Duration);
        Assert.Equal(2.5, options.Rate);
        Assert.Equal(TimeSpan.FromSeconds(30), options.TokenLifetime);
    }

    [Fact]
    public void Parse_EveryProblem_IsReportedAtOnce()
    {
        var (options, errors) = DemoCommand.Parse(["--duration", "0s", "--token-lifetime", "5s", "--bogus", "1"]);

        Assert.Null(options);
        Assert.Equal(
            [
                "unknown option '--bogus' (see 'demo --help')", "--duration: '0s' is not a duration from 1s to 3600s (write e.g. 500ms, 30s, 10m)",
                "--token-lifetime: '5s' is not a duration from 10s to 3600s (write e.g. 500ms, 30s, 10m)",
            ],
            errors);
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
}
