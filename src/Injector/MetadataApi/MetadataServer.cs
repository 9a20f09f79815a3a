using System.Net;
using TokenInjector.Plumbing;
using TokenInjector.Tokens;
using Yarp.ReverseProxy.Forwarder;

namespace TokenInjector.MetadataApi;

/// <summary>
/// The metadata endpoint's listener (<c>--metadata PORT</c>, on the loopback address the routes use): HTTP/1.1 as
/// Google's libraries speak to the metadata server, answered by <see cref="MetadataEndpoint"/>. The client that
/// forwards to the metadata server is plain HTTP with no proxy, no redirects followed (a 301 reaches the app as the
/// server sent it) and no decompression, so bodies pass byte for byte.
/// </summary>
internal sealed class MetadataServer(
    MetadataOptions options,
    TokenCacheOptions cacheOptions,
    ITokenCache cache,
    MetadataMetrics metrics,
    ILoggerFactory loggerFactory) : IHostedService, IDisposable
{
    private readonly ILogger _logger = loggerFactory.CreateLogger<MetadataServer>();
    private readonly HttpMessageInvoker _server = new(new SocketsHttpHandler
    {
        UseProxy = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        UseCookies = false,
        ConnectTimeout = options.FetchTimeout,
        ActivityHeadersPropagator = null,
    });

    private WebApplication? _app;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _app = LocalWebServer.Create(
            loggerFactory,
            kestrel =>
            {
                // Long polls (wait_for_change) may be quiet for minutes.
                kestrel.Limits.MinRequestBodyDataRate = null;
                kestrel.Limits.MinResponseDataRate = null;
                kestrel.Listen(new IPEndPoint(options.ListenAddress, options.Port));
            },
            services => services.AddHttpForwarder());
        var endpoint = new MetadataEndpoint(
            options, cache, cacheOptions.MaxDynamicAudiences, _app.Services.GetRequiredService<IHttpForwarder>(), _server, metrics, _logger);
        _app.Run(endpoint.HandleAsync);
        await _app.StartAsync(cancellationToken);
        _logger.MetadataListening(
            options.ListenAddress,
            options.Port,
            options.MetadataServer is { } server ? "forwarded to the metadata server at " + server : "answered here (--token-source adc: no metadata server)");
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_app is not null)
        {
            await _app.StopAsync(cancellationToken);
            await _app.DisposeAsync();
        }
    }

    public void Dispose() => _server.Dispose();
}
