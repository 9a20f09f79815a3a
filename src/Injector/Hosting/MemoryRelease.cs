using TokenInjector.Tokens;

namespace TokenInjector.Hosting;

/// <summary>
/// Gives back to the system the memory that the GC keeps committed after work is done. The GC returns free memory
/// only when it collects, and it collects only when allocation fills its first generation, which an idle sidecar may
/// not do for hours: the start-up's garbage, and the heap regions a burst of proxied calls committed, stay resident.
/// Nor does the kernel take back the pages of the executable and libraries that start-up or a burst touched until
/// memory runs short. So one compacting full collection that decommits what it frees
/// (<see cref="GCCollectionMode.Aggressive"/>), followed by <see cref="MappedFilePages.Release"/>, runs once a
/// moment (<see cref="StartupReleaseAfter"/>) after every listener is up and every configured audience has its first
/// token, and again whenever the sidecar has been quiet for a whole <see cref="CheckEvery"/> after its committed memory grew
/// (<see cref="IdleReleasePolicy"/>). It runs off the request path, and never while calls keep coming. Its interval
/// is the process's own time, not the token clock the host is given: a quiet minute is one of the machine's, and a
/// test that steps token lifetimes forward is not also stepping garbage collections.
/// </summary>
internal sealed class MemoryRelease(
    TokenCache cache, IHostApplicationLifetime lifetime, ILogger<MemoryRelease> logger) : BackgroundService
{
    /// <summary>How often the allocation since the last look is read; a release follows a quiet interval.</summary>
    public static readonly TimeSpan CheckEvery = TimeSpan.FromSeconds(15);

    /// <summary>
    /// How long after turning ready the start-up release waits: the first answers (the readiness probe's, the app's
    /// first calls) use the code the release would page out, and would read it back from the disk a page at a time.
    /// </summary>
    public static readonly TimeSpan StartupReleaseAfter = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
        {
            try
            {
                await Task.WhenAll(started.Task, cache.ConfiguredAudiencesReady).WaitAsync(stoppingToken);
                await Task.Delay(StartupReleaseAfter, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
        }

        var before = GC.GetTotalMemory(forceFullCollection: false);
        var pagedOut = Release();
        var after = GC.GetTotalMemory(forceFullCollection: false);
        logger.StartupGarbageReleased(before / 1024, after / 1024, pagedOut);

        var policy = new IdleReleasePolicy(Sample());
        using var timer = new PeriodicTimer(CheckEvery);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                if (policy.ShouldRelease(Sample()))
                {
                    var committed = GC.GetGCMemoryInfo().TotalCommittedBytes;
                    var mappings = Release();
                    var released = Sample();
                    policy.Released(released);
                    logger.IdleMemoryReleased(committed / 1024, released.CommittedBytes / 1024, mappings);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// The collection, another for the shared pool's buffers when it held some (<see cref="PooledBuffers"/>), then the
    /// pages of the files the process maps (<see cref="MappedFilePages"/>); returns how many mappings were paged out.
    /// </summary>
    private static int Release()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        if (PooledBuffers.DropAfterFullCollection() > 0)
        {
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        }

        return MappedFilePages.Release();
    }

    private static MemorySample Sample() => new(GC.GetTotalAllocatedBytes(), GC.GetGCMemoryInfo().TotalCommittedBytes);
}
