using TokenInjector.Tokens;

namespace TokenInjector.Hosting;

/// <summary>
/// Gives back, once, the memory the sidecar's start-up leaves behind. Building the host, the listeners and TLS, and
/// the first token fetches, leave a few MB of garbage that the GC collects only when its first generation fills,
/// which an idle sidecar may not do for hours. One compacting full collection that also returns the freed memory to
/// the system, when every listener is up and every configured audience has its first token, cut the published
/// sidecar's idle RSS by about 3 MB. It runs once, off the request path.
/// </summary>
internal sealed class StartupMemoryRelease(
    TokenCache cache, IHostApplicationLifetime lifetime, ILogger<StartupMemoryRelease> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
        {
            try
            {
                await Task.WhenAll(started.Task, cache.ConfiguredAudiencesReady).WaitAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
        }

        var before = GC.GetTotalMemory(forceFullCollection: false);
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        var after = GC.GetTotalMemory(forceFullCollection: false);
        logger.StartupGarbageReleased(before / 1024, after / 1024);
    }
}
