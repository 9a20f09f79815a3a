using System.Diagnostics;
using TokenInjector.Bench.Measuring;

namespace TokenInjector.Bench.Load;

/// <summary>
/// A closed-loop load: <c>concurrency</c> workers, each sending its next request as soon as the previous one is
/// answered, until <c>total</c> requests have been sent. Each worker times its own requests into its own histogram.
/// </summary>
internal static class ClosedLoop
{
    /// <summary>One worker's connection: sends one request and throws when it fails (a failed request voids the run).</summary>
    public delegate ValueTask SendOne(CancellationToken cancellationToken);

    public static async Task<LoadResult> RunAsync(
        IReadOnlyList<SendOne> workers, long total, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(workers);
        var remaining = total;
        var started = Stopwatch.GetTimestamp();
        var histograms = await Task.WhenAll(workers.Select(send => Task.Run(async () =>
        {
            var histogram = new LatencyHistogram();
            while (Interlocked.Decrement(ref remaining) >= 0)
            {
                var sent = Stopwatch.GetTimestamp();
                await send(cancellationToken);
                histogram.Record((long)Stopwatch.GetElapsedTime(sent).TotalNanoseconds);
            }

            return histogram;
        }, cancellationToken)));
        var elapsed = Stopwatch.GetElapsedTime(started);

        var all = new LatencyHistogram();
        foreach (var histogram in histograms)
        {
            all.Add(histogram);
        }

        return new LoadResult(total, elapsed, all);
    }
}
