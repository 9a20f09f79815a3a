using System.Net;
using TokenInjector.Plumbing;
using TokenInjector.Tokens;
using Yarp.ReverseProxy.Forwarder;

namespace TokenInjector.Proxy;

/// <summary>
/// The proxy listeners: one loopback port per route, and the egress port when there is one, each speaking gRPC
/// (HTTP/2 prior knowledge) and HTTP/1.1; the egress port also takes CONNECT tunnels (<see cref="ConnectTunnel"/>).
/// All of them forward through one <see cref="TokenForwarder"/> and one upstream client. Stopping it closes the
/// listeners at once and lets in-flight calls and streams finish within the drain time.
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
        if (options.Routes.Count == 0 && options.EgressPort is null)
        {
            return;
        }

        var egressPolicy = new EgressPolicy(options.EgressHosts);
        var tunnel = new ConnectTunnel(egressPolicy, metrics, _logger);
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

                if (options.EgressPort is { } egressPort)
                {
                    // A tunnel's contents may open with the HTTP/2 preface too, so the preface is looked for after it.
                    kestrel.Listen(new IPEndPoint(options.ListenAddress, egressPort), listen => listen.Use(tunnel.Middleware).Use(PriorKnowledgeHttp2.Detect));
                }
            },
            services => services.AddHttpForwarder());

        var trust = UpstreamTrust.Load(options.UpstreamCaFile);
        _upstream = UpstreamClient.Create(trust, options.Resolves);
        var forwarder = new TokenForwarder(
            cache, _app.Services.GetRequiredService<IHttpForwarder>(), _upstream, new TokenInjectingTransformer(options.AuthHeader), metrics, _logger);
        var routes = options.Routes.ToDictionary(route => route.ListenPort, ForwardingTarget.ForRoute);
        var egress = new EgressProxy(egressPolicy, forwarder, _logger);
        _app.Run(context => routes.TryGetValue(context.Connection.LocalPort, out var route)
            ? forwarder.ForwardAsync(context, route)
            : egress.HandleAsync(context));
        await _app.StartAsync(cancellationToken);
        foreach (var route in options.Routes)
        {
            _logger.RouteListening(options.ListenAddress, route.ListenPort, route.Authority, route.Audience);
        }

        if (options.EgressPort is { } port)
        {
            _logger.EgressListening(options.ListenAddress, port, egressPolicy.Allowlist);
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
