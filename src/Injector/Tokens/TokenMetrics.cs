using Prometheus;

namespace TokenInjector.Tokens;

/// <summary>
/// The token metrics (README.md "Metrics"). Audience labels are only ever configured audiences; dynamic ones are folded
/// into <see cref="OtherAudience"/> so that a caller cannot grow the label set.
/// </summary>
internal sealed class TokenMetrics
{
    public const string OtherAudience = "other";

    public TokenMetrics(CollectorRegistry registry)
    {
        var metrics = Metrics.WithCustomRegistry(registry);
        Refreshes = metrics.CreateCounter(
            "token_injector_token_refresh_total", "Token fetches by audience and result (success, stale, error).", "audience", "result");
        RefreshDuration = metrics.CreateHistogram(
            "token_injector_token_refresh_duration_seconds", "Time taken by one token fetch.",
            new HistogramConfiguration { LabelNames = ["audience"], Buckets = Histogram.ExponentialBuckets(0.005, 2, 12) });
        ExpiryTimestamp = metrics.CreateGauge(
            "token_injector_token_expiry_timestamp_seconds", "Expiry (Unix seconds) of the current token of each audience.", "audience");
        Requests = metrics.CreateCounter(
            "token_injector_token_requests_total", "Token API requests by audience and result.", "audience", "result");
        FetchErrors = metrics.CreateCounter(
            "token_injector_token_fetch_errors_total", "Failed token fetches by reason.", "reason");
    }

    public Counter Refreshes { get; }

    public Histogram RefreshDuration { get; }

    public Gauge ExpiryTimestamp { get; }

    public Counter Requests { get; }

    public Counter FetchErrors { get; }
}
