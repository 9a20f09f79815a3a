using Prometheus;

namespace TokenInjector.Webhook;

/// <summary>The webhook's Prometheus metrics, in a registry of its own so that instances (and tests) do not share counts.</summary>
internal sealed class WebhookMetrics
{
    public WebhookMetrics()
    {
        var factory = Metrics.WithCustomRegistry(Registry);
        Admissions = factory.CreateCounter(
            "token_injector_webhook_admissions_total",
            "Admission requests answered, by result: pods mutated or denied; workload templates template_allowed or template_denied; skipped and invalid (400) for both.",
            new CounterConfiguration { LabelNames = ["result"] });
        Duration = factory.CreateHistogram(
            "token_injector_webhook_admission_duration_seconds",
            "Time to answer one admission request, service account look-up included.",
            new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.0005, 2, 14) });
        CertificateExpiry = factory.CreateGauge(
            "token_injector_webhook_certificate_expiry_timestamp_seconds",
            "When the serving certificate being served expires (its notAfter), in Unix seconds.",
            new GaugeConfiguration { SuppressInitialValue = true });
    }

    public CollectorRegistry Registry { get; } = Metrics.NewCustomRegistry();

    public Counter Admissions { get; }

    public Histogram Duration { get; }

    public Gauge CertificateExpiry { get; }
}
