using TokenInjector.Tests.Support;

namespace TokenInjector.Tests.Reliability;

/// <summary>
/// Runs a fuzzer's cases against a process, many at once, and watches the process's footprint while they run.
/// </summary>
internal static class FuzzDriver
{
    private const int SampleEvery = 500;

    /// <summary>
    /// A 5xx no listener is specified to give: 502 and 503 are the design's (the upstream away, no token), 505 is
    /// Kestrel's answer to a request line of another HTTP version; any other is a defect.
    /// </summary>
    public static bool IsUnspecifiedServerError(int? code) => code is >= 500 and not (502 or 503 or 505);

    /// <summary>The report line of how the cases ended, the most frequent first.</summary>
    public static string Outcomes(IReadOnlyDictionary<string, int> counts) =>
        "outcomes: " + string.Join(", ", counts.OrderByDescending(s => s.Value).Take(12).Select(s => $"{s.Key} x{s.Value}"));

    /// <summary>Runs <paramref name="runCase"/> for every case index, <paramref name="parallelism"/> at a time; returns the peak footprint seen.</summary>
    public static async Task<ProcessFootprint> RunAsync(int cases, int parallelism, int processId, Func<int, Task> runCase)
    {
        var peak = ProcessFootprint.Of(processId);
        var peakGate = new Lock();
        var next = -1;

        async Task WorkAsync()
        {
            int index;
            while ((index = Interlocked.Increment(ref next)) < cases)
            {
                await runCase(index);
                if (index % SampleEvery == 0)
                {
                    var now = ProcessFootprint.Of(processId);
                    lock (peakGate)
                    {
                        peak = now.ResidentBytes > peak.ResidentBytes ? now : peak;
                    }
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, parallelism).Select(_ => Task.Run(WorkAsync))).WaitAsync(TimeSpan.FromMinutes(3));
        return peak;
    }
}
