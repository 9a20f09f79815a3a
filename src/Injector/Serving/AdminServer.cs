using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Prometheus;
using TokenInjector.Plumbing;
using TokenInjector.Tokens;

namespace TokenInjector.Serving;

/// <summary>
/// The admin listener: <c>/metrics</c> (Prometheus text), <c>/healthz</c> (the process is alive) and
/// <c>/readyz</c> (every configured audience has a usable token; when not, a Workload Identity refusal and its fix are
/// said). It has no route to tokens.
/// </summary>
internal sealed class AdminServer(
    AdminOptions options,
    ITokenCache cache,
    WorkloadIdentityRefusals refusals,
    CollectorRegistry registry,
    ILoggerFactory loggerFactory) : IHostedService
{
    private readonly ILogger _logger = loggerFactory.CreateLogger<AdminServer>();
    private WebApplication? _app;

    /// <summary>The bound endpoint (the real port when port 0 was configured).</summary>
    public IPEndPoint? BoundEndpoint { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _app = LocalWebServer.Create(loggerFactory, kestrel =>
            kestrel.Listen(options.Endpoint, listen => listen.Protocols = HttpProtocols.Http1));
        _app.Run(HandleAsync);
        await _app.StartAsync(cancellationToken);
        var address = LocalWebServer.BoundAddresses(_app)[0];
        BoundEndpoint = new IPEndPoint(options.Endpoint.Address, address.Port);
        _logger.AdminListening(BoundEndpoint);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_app is not null)
        {
            await _app.StopAsync(cancellationToken);
            await _app.DisposeAsync();
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        var response = context.Response;
        switch (context.Request.Path.Value)
        {
            case "/metrics":
                response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
                await registry.CollectAndExportAsTextAsync(response.Body, context.RequestAborted);
                break;
            case "/healthz":
                await PlainText.WriteAsync(response, StatusCodes.Status200OK, "ok");
                break;
            case "/readyz":
                var missing = cache.AudiencesWithoutUsableToken();
                await (missing.Count == 0
                    ? PlainText.WriteAsync(response, StatusCodes.Status200OK, "ready")
                    : PlainText.WriteAsync(response, StatusCodes.Status503ServiceUnavailable, "not ready: no usable token yet for " + string.Join(", ", missing)
                        + (refusals.Current is { } refusal ? "; " + refusal.Message : string.Empty)));
                break;
            default:
                await PlainText.WriteAsync(response, StatusCodes.Status404NotFound, "not found: the admin listener serves /metrics, /healthz and /readyz");
                break;
        }
    }
}
