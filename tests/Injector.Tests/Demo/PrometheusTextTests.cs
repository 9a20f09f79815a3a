using TokenInjector.Demo.Observing;

namespace TokenInjector.Tests.Demo;

public sealed class PrometheusTextTests
{
    // As prometheus-net writes it: HELP/TYPE comments, labels in declared order, histograms with buckets.
    private const string Page = """
        # HELP token_injector_token_refresh_total Token fetches by audience and result (success, stale, error).
        # TYPE token_injector_token_refresh_total counter
        token_injector_token_refresh_total{audience="https://svc-abc-uc.a.run.app",result="success"} 3
        token_injector_token_refresh_total{audience="https://svc-abc-uc.a.run.app",result="error"} 1
        token_injector_token_refresh_total{audience="other",result="success"} 7
        # HELP token_injector_token_expiry_timestamp_seconds Expiry (Unix seconds) of the current token of each audience.
        # TYPE token_injector_token_expiry_timestamp_seconds gauge
        token_injector_token_expiry_timestamp_seconds{audience="https://svc-abc-uc.a.run.app"} 1763935000
        token_injector_proxy_request_duration_seconds_bucket{route="8080",le="+Inf"} 12
        token_injector_proxy_requests_total{route="8080",code="200"} 10
        token_injector_proxy_requests_total{route="8080",code="503"} 2
        process_open_handles 42
        """;

    [Fact]
    public void Sum_FiltersByEveryGivenLabel()
    {
        var samples = PrometheusText.Parse(Page);

        Assert.Equal(3, PrometheusText.Sum(samples, "token_injector_token_refresh_total", ("audience", "https://svc-abc-uc.a.run.app"), ("result", "success")));
        Assert.Equal(10, PrometheusText.Sum(samples, "token_injector_token_refresh_total", ("result", "success")));
        Assert.Equal(12, PrometheusText.Sum(samples, "token_injector_proxy_requests_total"));
    }

    [Fact]
    public void Find_ReadsAGaugeWrittenAsAWholeNumber_AndNullWhenAbsent()
    {
        var samples = PrometheusText.Parse(Page);

        Assert.Equal(1763935000d, PrometheusText.Find(samples, "token_injector_token_expiry_timestamp_seconds", ("audience", "https://svc-abc-uc.a.run.app")));
        Assert.Null(PrometheusText.Find(samples, "token_injector_token_expiry_timestamp_seconds", ("audience", "https://other")));
    }

    [Fact]
    public void Parse_SkipsCommentsAndKeepsUnlabelledSamplesAndInfinity()
    {
        var samples = PrometheusText.Parse(Page);

        Assert.Equal(8, samples.Count);
        Assert.Equal(42, PrometheusText.Find(samples, "process_open_handles"));
        Assert.Equal("+Inf", Assert.Single(samples, s => s.Name.EndsWith("_bucket", StringComparison.Ordinal)).Labels["le"]);
    }

    [Theory]
    [InlineData("a_total{x=\"1\"} 1.5e3", "a_total", 1500d)]
    [InlineData("a_total 7 1700000000000", "a_total", 7d)]
    [InlineData("a{path=\"say \\\"hi\\\", ok\"} 2", "a", 2d)]
    public void TryParseLine_ReadsValuesTimestampsAndEscapedLabels(string line, string name, double value)
    {
        Assert.True(PrometheusText.TryParseLine(line, out var sample));
        Assert.Equal(name, sample!.Name);
        Assert.Equal(value, sample.Value);
    }

    [Fact]
    public void TryParseLine_EscapedQuoteAndCommaStayInsideTheLabelValue()
    {
        Assert.True(PrometheusText.TryParseLine("a{path=\"say \\\"hi\\\", ok\",b=\"2\"} 2", out var sample));

        Assert.Equal("say \"hi\", ok", sample!.Labels["path"]);
        Assert.Equal("2", sample.Labels["b"]);
    }

    [Theory]
    [InlineData("no_value")]
    [InlineData("a{x=\"1\" 3")]
    [InlineData("a{x=1} 3")]
    [InlineData("a not-a-number")]
    public void TryParseLine_MalformedLines_AreRejectedNotThrown(string line)
    {
        Assert.False(PrometheusText.TryParseLine(line, out _));
    }
}
