using System.Diagnostics;
using Prometheus;

namespace TokenInjector.MetadataApi;

/// <summary>
/// Requests to the metadata endpoint. <c>kind</c> is <c>identity</c> (answered from the token cache), <c>forwarded</c>
/// (passed to the metadata server), <c>local</c> (answered here under <c>--token-source adc</c>) or <c>refused</c> (the
/// endpoint's own refusals: no flavor header, X-Forwarded-For, a bad path); <c>code</c> is the HTTP status.
/// </summary>
internal sealed class MetadataMetrics
{
    public const string Identity = "identity";
    public const string Forwarded = "forwarded";
    public const string Local = "local";
    public const string Refused = "refused";

    public MetadataMetrics(CollectorRegistry registry)
    {
        var metrics = Metrics.WithCustomRegistry(registry);
        Requests = metrics.CreateCounter(
            "token_injector_metadata_endpoint_requests_total", "Metadata endpoint requests by kind (identity, forwarded, local, refused) and HTTP status.", "kind", "code");
        Duration = metrics.CreateHistogram(
            "token_injector_metadata_endpoint_request_duration_seconds", "Time from request start to the end of the answer.",
            new HistogramConfiguration { LabelNames = ["kind"], Buckets = Histogram.ExponentialBuckets(0.0005, 2, 16) });
    }

    public Counter Requests { get; }

    public Histogram Duration { get; }

    public void Count(string kind, int status, long startedTimestamp)
    {
        Requests.WithLabels(kind, status.ToString(System.Globalization.CultureInfo.InvariantCulture)).Inc();
        Duration.WithLabels(kind).Observe(Stopwatch.GetElapsedTime(startedTimestamp).TotalSeconds);
    }
}
