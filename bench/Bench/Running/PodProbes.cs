using System.Net;
using System.Net.Sockets;
using TokenInjector.Bench.Load;

namespace TokenInjector.Bench.Running;

/// <summary>
/// What a pod's kubelet and Prometheus ask a sidecar whether or not it has calls: <c>/healthz</c> and <c>/readyz</c>
/// every 10 s (the probes' default period), each on a connection of its own as the kubelet opens them, and
/// <c>/metrics</c> every 30 s (the chart's scrape interval); the first of each at once. The idle and quiet memory
/// figures are read with these running, as a pod's would be: they are the code an idle sidecar still runs.
/// </summary>
internal sealed class PodProbes : IAsyncDisposable
{
    private static readonly TimeSpan ProbeEvery = TimeSpan.FromSeconds(10);
    private const int ScrapeEveryProbes = 3;
    private static readonly byte[] Healthz = Http1Connection.Get("/healthz");
    private static readonly byte[] Readyz = Http1Connection.Get("/readyz");
    private static readonly byte[] Metrics = Http1Connection.Get("/metrics");

    private readonly CancellationTokenSource _stop = new();
    private readonly Task _probing;

    private PodProbes(EndPoint admin) => _probing = ProbeAsync(admin, _stop.Token);

    public static PodProbes Start(EndPoint admin) => new(admin);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _probing;
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
    }

    private static async Task ProbeAsync(EndPoint admin, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(ProbeEvery);
        for (var probe = 0; ; probe++)
        {
            await AskAsync(admin, Healthz, stop);
            await AskAsync(admin, Readyz, stop);
            if (probe % ScrapeEveryProbes == 0)
            {
                await AskAsync(admin, Metrics, stop);
            }

            await timer.WaitForNextTickAsync(stop);
        }
    }

    // A probe that finds the sidecar gone is not the bench's business here: its loads and memory reads notice.
    private static async Task AskAsync(EndPoint admin, byte[] request, CancellationToken stop)
    {
        try
        {
            using var connection = await Http1Connection.OpenAsync(admin, stop);
            await connection.SendAsync(request, stop);
        }
        catch (Exception ex) when (ex is SocketException or IOException)
        {
        }
    }
}
