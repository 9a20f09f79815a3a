namespace TokenInjector.Demo.Observing;

/// <summary>One line of the Prometheus text format: a metric name, its labels and its value.</summary>
internal sealed record MetricSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);
