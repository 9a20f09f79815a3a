using TokenInjector.Tests.Support;

namespace TokenInjector.Tests.Reliability;

/// <summary>
/// Runs a fuzzer's cases against a process, many at once, and watches the process's footprint while they run.
/// </summary>
internal static class FuzzDriver
{
    private const int SampleEvery = 500;

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
