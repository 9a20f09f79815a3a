namespace TokenInjector.Bench.Measuring;

/// <summary>What one closed-loop run measured: how many requests, in how long, and their latencies.</summary>
internal sealed record LoadResult(long Requests, TimeSpan Elapsed, LatencyHistogram Latencies)
{
    public double RequestsPerSecond => Requests / Elapsed.TotalSeconds;

    public TimeSpan P50 => Latencies.Percentile(50);

    public TimeSpan P99 => Latencies.Percentile(99);

    /// <summary>This run and <paramref name="next"/> as one: their requests, times and latencies added up.</summary>
    public LoadResult Then(LoadResult next)
    {
        ArgumentNullException.ThrowIfNull(next);
        var latencies = new LatencyHistogram();
        latencies.Add(Latencies);
        latencies.Add(next.Latencies);
        return new LoadResult(Requests + next.Requests, Elapsed + next.Elapsed, latencies);
    }
}
