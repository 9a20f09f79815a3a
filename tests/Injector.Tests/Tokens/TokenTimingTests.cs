using TokenInjector.Tests.Support;
using TokenInjector.Tokens;

namespace TokenInjector.Tests.Tokens;

public sealed class TokenTimingTests
{
    public static TheoryData<string, int, double, double> Lifetimes => new()
    {
        // name, lifetime s, expected refresh lead s, expected hand-out margin s
        { "Google's one-hour token", 3600, 300, 30 },
        { "20 s test token", 20, 10, 2 },
        { "150 s test token", 150, 75, 15 },
        { "10 min token", 600, 300, 30 },
        { "4 min token", 240, 120, 24 },
    };

    [Theory]
    [MemberData(nameof(Lifetimes))]
    public void RulesScaleWithLifetime(string name, int lifetimeSeconds, double leadSeconds, double marginSeconds)
    {
        var issued = DateTimeOffset.UnixEpoch.AddDays(20000);
        var token = IdToken.Parse(FakeIdTokenSource.Jwt("aud", issued, TimeSpan.FromSeconds(lifetimeSeconds), 1));

        Assert.True(TimeSpan.FromSeconds(leadSeconds) == TokenTiming.RefreshLead(token), name);
        Assert.Equal(TimeSpan.FromSeconds(marginSeconds), TokenTiming.HandOutMargin(token));
        Assert.Equal(token.ExpiresAt - TimeSpan.FromSeconds(leadSeconds), TokenTiming.RefreshAt(token, jitter: 0));
        Assert.Equal(token.ExpiresAt - TimeSpan.FromSeconds(leadSeconds * 1.1), TokenTiming.RefreshAt(token, jitter: 1));
        Assert.True(TokenTiming.IsUsable(token, token.ExpiresAt - TimeSpan.FromSeconds(marginSeconds) - TimeSpan.FromMilliseconds(1)));
        Assert.False(TokenTiming.IsUsable(token, token.ExpiresAt - TimeSpan.FromSeconds(marginSeconds)));
    }

    [Fact]
    public void Backoff_DoublesWithinJitterBounds_UpToCap()
    {
        var backoff = new RetryBackoff(TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(30));
        var ceilings = new[] { 0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 12.8, 25.6, 30, 30, 30 };
        foreach (var ceiling in ceilings)
        {
            var low = backoff.Next(jitter: 0);
            Assert.Equal(ceiling / 2, low.TotalSeconds, precision: 6);
        }

        backoff.Reset();
        Assert.Equal(0.2, backoff.Next(jitter: 1).TotalSeconds, precision: 6);
    }

    [Theory]
    [InlineData("not-a-jwt")]
    [InlineData("a.b")]
    [InlineData("a.!!!.c")]
    [InlineData("e30.e30.c")]
    [InlineData("e30.eyJpYXQiOjEwLCJleHAiOjV9.c")]
    public void Parse_Malformed_ThrowsWithoutQuotingTheInput(string jwt)
    {
        var error = Assert.Throws<FormatException>(() => IdToken.Parse(jwt));
        Assert.DoesNotContain(jwt, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ToString_NeverShowsTheToken()
    {
        var jwt = FakeIdTokenSource.Jwt("aud", DateTimeOffset.UtcNow, TimeSpan.FromHours(1), 7);
        Assert.DoesNotContain(jwt.Split('.')[1], IdToken.Parse(jwt).ToString(), StringComparison.Ordinal);
    }
}
