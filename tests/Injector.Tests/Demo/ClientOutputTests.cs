using TokenInjector.Demo.Observing;

namespace TokenInjector.Tests.Demo;

/// <summary>The demo reads the lines sample-workload client prints; these are its exact formats (EchoClientRunner).</summary>
public sealed class ClientOutputTests
{
    [Fact]
    public void TryParseStatus_HealthyLine_ReadsCountsAndCaller()
    {
        const string Line = "[  12s] ok=58 failed=0 | streams ok=1 failed=0 msgs=22 | caller=app@p.iam.gserviceaccount.com | token exp=12:00:41Z (in 9s)";

        Assert.True(ClientOutput.TryParseStatus(Line, out var status));

        Assert.Equal(new ClientStatus(58, 0, 1, 0, 22, "app@p.iam.gserviceaccount.com", null), status);
    }

    [Fact]
    public void TryParseStatus_LineWithErrorsAndSkips_ReadsTheLastError()
    {
        const string Line = "[   4s] ok=0 failed=6 | streams ok=0 failed=1 msgs=0 | caller=- | token exp=- | skipped=2 (service slower than --rate) | 7 error(s), last: Unavailable: token-injector: no ID token for https://x";

        Assert.True(ClientOutput.TryParseStatus(Line, out var status));

        Assert.Equal(6, status!.Failed);
        Assert.Equal(1, status.StreamsFailed);
        Assert.Null(status.Caller);
        Assert.Equal("Unavailable: token-injector: no ID token for https://x", status.RecentError);
    }

    [Fact]
    public void TryParseSummary_ReadsTotalsAndIdentities()
    {
        Assert.True(ClientOutput.TryParseSummary("summary: ok=300 failed=0 streams_ok=3 identities=a@p.iam.gserviceaccount.com,b@p.iam.gserviceaccount.com", out var summary));

        Assert.Equal(300, summary!.Ok);
        Assert.Equal(0, summary.Failed);
        Assert.Equal(3, summary.StreamsOk);
        Assert.Equal(["a@p.iam.gserviceaccount.com", "b@p.iam.gserviceaccount.com"], summary.Identities);
    }

    [Fact]
    public void TryParseSummary_NoIdentity_IsAnEmptyList()
    {
        Assert.True(ClientOutput.TryParseSummary("summary: ok=0 failed=12 streams_ok=0 identities=-", out var summary));

        Assert.Empty(summary!.Identities);
        Assert.Equal(12, summary.Failed);
    }

    [Theory]
    [InlineData("calling http://127.0.0.1:8080 at 5 calls/s plus a server stream")]
    [InlineData("summary: ok=1")]
    [InlineData("")]
    public void OtherLines_AreNeitherStatusNorSummary(string line)
    {
        Assert.False(ClientOutput.TryParseStatus(line, out _));
        Assert.False(ClientOutput.TryParseSummary(line, out _));
    }
}
