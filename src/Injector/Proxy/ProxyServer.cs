using System.Net;
using TokenInjector.Plumbing;
using TokenInjector.Tokens;
using Yarp.ReverseProxy.Forwarder;

namespace TokenInjector.Proxy;

/// <summary>
/// The route listeners: one loopback port per route, each speaking gRPC (HTTP/2 prior knowledge) and HTTP/1.1.
/// Stopping it closes the listeners at once and lets in-flight calls and streams finish within the drain time.
/// </summary>
internal sealed class ProxyServer(
    ProxyOptions options,
    ITokenCache cache,
    ProxyMetrics metrics,
    ILoggerFactory loggerFactory) : IHostedService, IDisposable
{
    private readonly ILogger _logger = loggerFactory.CreateLogger<ProxyServer>();
    private WebApplication? _app;
    private HttpMessageInvoker? _upstream;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Routes.Count == 0)
        {
            return;
        }

        _app = LocalWebServer.Create(
            loggerFactory,
            kestrel =>
            {
                // Streams may be long and quiet, and messages large: the app's deadlines and gRPC limits govern.
                kestrel.Limits.MaxRequestBodySize = null;
                kestrel.Limits.MinRequestBodyDataRate = null;
                kestrel.Limits.MinResponseDataRate = null;
                kestrel.Limits.Http2.MaxStreamsPerConnection = 1000;
                kestrel.AllowAlternateSchemes = true;
                foreach (var route in options.Routes)
                {
                    // Kestrel's default protocols, HTTP/1.1 and HTTP/2 (HTTP/3 is never on without TLS). Set
                    // explicitly, they make Kestrel warn at start that HTTP/2 is off without TLS, which
                    // PriorKnowledgeHttp2 makes untrue.
                    kestrel.Listen(new IPEndPoint(options.ListenAddress, route.ListenPort), listen => listen.Use(PriorKnowledgeHttp2.Detect));
                }
            },
            services => services.AddHttpForwarder());

        var trust = UpstreamTrust.Load(options.UpstreamCaFile);
        _upstream = UpstreamClient.Create(trust, options.Resolves);
        var forwarder = _app.Services.GetRequiredService<IHttpForwarder>();
        var transformer = new TokenInjectingTransformer(options.AuthHeader);
        var routes = options.Routes.ToDictionary(
            route => route.ListenPort,
            route => new RouteProxy(route, cache, forwarder, _upstream, transformer, metrics, _logger));
        _app.Run(context => routes[context.Connection.LocalPort].HandleAsync(context));
        await _app.StartAsync(cancellationToken);
        foreach (var route in options.Routes)
        {
            _logger.RouteListening(options.ListenAddress, route.ListenPort, route.Authority, route.Audience);
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_app is not null)
        {
            _logger.Draining();
            await _app.StopAsync(cancellationToken);
            await _app.DisposeAsync();
        }
    }

    public void Dispose() => _upstream?.Dispose();
}
