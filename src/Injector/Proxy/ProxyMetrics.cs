using System.Diagnostics;
using Prometheus;

namespace TokenInjector.Proxy;

/// <summary>
/// Proxied calls. <c>route</c> is the route's local port, or <c>egress</c> for the egress listener; <c>code</c> is the
/// gRPC status name for gRPC calls (OK, UNAVAILABLE, ...) and the HTTP status code otherwise (an upstream 401 to a gRPC
/// call shows as 401). Requests the proxy refuses itself are counted too.
/// </summary>
internal sealed class ProxyMetrics
{
    public ProxyMetrics(CollectorRegistry registry)
    {
        var metrics = Metrics.WithCustomRegistry(registry);
        Requests = metrics.CreateCounter("token_injector_proxy_requests_total", "Proxied requests by route and result code.", "route", "code");
        Duration = metrics.CreateHistogram(
            "token_injector_proxy_request_duration_seconds", "Time from request start to the end of the proxied response.",
            new HistogramConfiguration { LabelNames = ["route"], Buckets = Histogram.ExponentialBuckets(0.0005, 2, 16) });
        UpstreamRejections = metrics.CreateCounter(
            "token_injector_upstream_rejections_total", "Upstream 401 answers to requests that carried a token (each triggers at most one early refresh).", "route");
    }

    public Counter Requests { get; }

    public Histogram Duration { get; }

    public Counter UpstreamRejections { get; }

    /// <summary>Counts one request that started at <paramref name="startedTimestamp"/> (<see cref="Stopwatch"/>) and ended now.</summary>
    public void Count(string route, string code, long startedTimestamp)
    {
        Requests.WithLabels(route, code).Inc();
        Duration.WithLabels(route).Observe(Stopwatch.GetElapsedTime(startedTimestamp).TotalSeconds);
    }
}
