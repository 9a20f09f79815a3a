namespace TokenInjector.Plumbing;

/// <summary>
/// The lifetime of a server nested in another host: it starts and stops when its owner says, and does not
/// listen for SIGTERM itself (the owner's console lifetime does, once for the whole process).
/// </summary>
internal sealed class ExternallyControlledLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
