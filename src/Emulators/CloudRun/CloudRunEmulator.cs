using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using TokenInjector.DevCommandLine;
using Yarp.ReverseProxy.Forwarder;

namespace TokenInjector.Emulators.CloudRun;

/// <summary>
/// A running Cloud Run front end: TLS (HTTP/1.1 and HTTP/2 by ALPN) that checks Google ID tokens and forwards
/// what passes to an h2c container, as a service deployed with "HTTP/2 end-to-end". Start with
/// <see cref="StartAsync"/>, stop by disposing.
/// </summary>
internal sealed class CloudRunEmulator : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly JwksKeyCache _keys;
    private readonly HttpMessageInvoker _upstreamClient;

    private CloudRunEmulator(WebApplication app, JwksKeyCache keys, HttpMessageInvoker upstreamClient, CloudRunStats stats, int port)
    {
        _app = app;
        _keys = keys;
        _upstreamClient = upstreamClient;
        Stats = stats;
        Port = port;
    }

    /// <summary>The TLS port actually bound (useful with port 0).</summary>
    public int Port { get; }

    /// <summary>What was accepted and rejected so far.</summary>
    public CloudRunStats Stats { get; }

    /// <summary>Validates <paramref name="options"/> (every error at once), binds the port and starts serving.</summary>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public static async Task<CloudRunEmulator> StartAsync(CloudRunEmulatorOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException(string.Join(Environment.NewLine, errors), nameof(options));
        }

        _ = ListenAddress.TryParse(options.ListenAddress, out var endpoint); // validated above
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        builder.Services.AddHttpForwarder();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            // Streams may sit idle or be large, as they can on Cloud Run with HTTP/2 end-to-end; the request
            // timeout is the only limit.
            kestrel.Limits.MinRequestBodyDataRate = null;
            kestrel.Limits.MinResponseDataRate = null;
            kestrel.Limits.MaxRequestBodySize = null;
            void Configure(ListenOptions listen)
            {
                listen.Protocols = HttpProtocols.Http1AndHttp2;
                listen.UseHttps(options.Certificate);
            }

            if (endpoint!.IsLocalhost)
            {
                kestrel.ListenLocalhost(endpoint.Port, Configure);
            }
            else
            {
                kestrel.Listen(endpoint.Address, endpoint.Port, Configure);
            }
        });

        var app = builder.Build();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("TokenInjector.Emulators.CloudRun");
        var keys = new JwksKeyCache(options.JwksUri, options.Time, logger);
        var upstreamClient = new HttpMessageInvoker(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            EnableMultipleHttp2Connections = true,
            ConnectTimeout = TimeSpan.FromSeconds(15),
        });
        var stats = new CloudRunStats();
        var frontEnd = new CloudRunFrontEnd(
            options,
            new IdTokenValidator(options, keys),
            stats,
            app.Services.GetRequiredService<IHttpForwarder>(),
            upstreamClient,
            logger);
        app.Run(frontEnd.HandleAsync);

        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch
        {
            await app.DisposeAsync();
            upstreamClient.Dispose();
            keys.Dispose();
            throw;
        }

        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new CloudRunEmulator(app, keys, upstreamClient, stats, new Uri(address).Port);
    }

    public async ValueTask DisposeAsync()
    {
        using (var stopping = new CancellationTokenSource(TimeSpan.FromSeconds(5)))
        {
            await _app.StopAsync(stopping.Token);
        }

        await _app.DisposeAsync();
        _upstreamClient.Dispose();
        _keys.Dispose();
    }
}
