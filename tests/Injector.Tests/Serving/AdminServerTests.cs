using System.Net;
using TokenInjector.Hosting;
using TokenInjector.Tests.Support;
using TokenInjector.Tokens;

namespace TokenInjector.Tests.Serving;

public sealed class AdminServerTests
{
    private const string Audience = "https://svc-abc.a.run.app";

    [Fact]
    public async Task Readiness_FollowsTheConfiguredAudiencesTokens()
    {
        var source = FakeIdTokenSource.HeldUntilReleased();
        await using var sidecar = await RunningSidecar.StartAsync(["--audience", Audience], new SidecarHostOverrides { TokenSource = source });

        Assert.Equal(HttpStatusCode.ServiceUnavailable, await sidecar.ReadinessAsync());
        Assert.Contains(Audience, await ReadyBodyAsync(sidecar), StringComparison.Ordinal);
        source.Release();
        using var token = await sidecar.GetTokenAsync(Audience);
        Assert.Equal(HttpStatusCode.OK, await sidecar.ReadinessAsync());
        using var health = await sidecar.AdminClient.GetAsync("/healthz").Bounded();
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [Fact]
    public async Task Metrics_ShowTheDesignNames_WithBoundedAudienceLabels()
    {
        await using var sidecar = await RunningSidecar.StartAsync(["--audience", Audience], new SidecarHostOverrides
        {
            TokenSource = new FakeIdTokenSource(TimeProvider.System, TimeSpan.FromHours(1)),
        });
        using (await sidecar.GetTokenAsync(Audience))
        using (await sidecar.GetTokenAsync("https://dynamic-one.example"))
        using (await sidecar.GetTokenAsync("https://dynamic-two.example"))
        using (await sidecar.Socket.GetAsync("/v1/token").Bounded())
        {
        }

        var metrics = await sidecar.MetricsAsync();

        Assert.Contains($"token_injector_token_refresh_total{{audience=\"{Audience}\",result=\"success\"}} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("token_injector_token_refresh_total{audience=\"other\",result=\"success\"} 2", metrics, StringComparison.Ordinal);
        Assert.Contains($"token_injector_token_refresh_duration_seconds_count{{audience=\"{Audience}\"}} 1", metrics, StringComparison.Ordinal);
        Assert.Contains($"token_injector_token_expiry_timestamp_seconds{{audience=\"{Audience}\"}}", metrics, StringComparison.Ordinal);
        Assert.Contains($"token_injector_token_requests_total{{audience=\"{Audience}\",result=\"ok\"}} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("token_injector_token_requests_total{audience=\"other\",result=\"ok\"} 2", metrics, StringComparison.Ordinal);
        Assert.Contains("token_injector_token_requests_total{audience=\"other\",result=\"bad_request\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("# TYPE token_injector_token_fetch_errors_total counter", metrics, StringComparison.Ordinal);
        Assert.DoesNotContain("dynamic-one", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FetchErrors_CountedByReason()
    {
        var source = new FakeIdTokenSource(TimeProvider.System, TimeSpan.FromHours(1))
        {
            Failure = new TokenFetchException(TokenFetchException.RateLimited, "the token endpoint answered 429 Too Many Requests"),
        };
        await using var sidecar = await RunningSidecar.StartAsync(["--audience", Audience], new SidecarHostOverrides { TokenSource = source });
        using (await sidecar.GetTokenAsync(Audience))
        {
        }

        var metrics = await sidecar.MetricsAsync();

        Assert.Matches("token_injector_token_fetch_errors_total\\{reason=\"rate_limited\"\\} [1-9]", metrics);
        Assert.Matches($"token_injector_token_refresh_total\\{{audience=\"{Audience}\",result=\"error\"\\}} [1-9]", metrics);
    }

    [Fact]
    public async Task UnknownAdminPath_Is404_AndTheTokenApiIsNotThere()
    {
        await using var sidecar = await RunningSidecar.StartAsync(["--audience", Audience], new SidecarHostOverrides
        {
            TokenSource = new FakeIdTokenSource(TimeProvider.System, TimeSpan.FromHours(1)),
        });

        using var viaSocket = await sidecar.GetTokenAsync(Audience);
        var token = await viaSocket.Content.ReadAsStringAsync();

        using var response = await sidecar.AdminClient.GetAsync("/v1/token?audience=" + Audience).Bounded();

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.DoesNotContain(token, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.DoesNotContain(token, await sidecar.MetricsAsync(), StringComparison.Ordinal);
    }

    private static async Task<string> ReadyBodyAsync(RunningSidecar sidecar)
    {
        using var response = await sidecar.AdminClient.GetAsync("/readyz").Bounded();
        return await response.Content.ReadAsStringAsync();
    }
}
