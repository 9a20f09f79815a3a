namespace TokenInjector.Bench.Measuring;

/// <summary>What one closed-loop run measured: how many requests, in how long, and their latencies.</summary>
internal sealed record LoadResult(long Requests, TimeSpan Elapsed, LatencyHistogram Latencies)
{
    public double RequestsPerSecond => Requests / Elapsed.TotalSeconds;

    public TimeSpan P50 => Latencies.Percentile(50);

    public TimeSpan P99 => Latencies.Percentile(99);
}
