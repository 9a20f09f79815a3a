using Microsoft.AspNetCore.Server.Kestrel.Core;
using TokenInjector.Plumbing;

namespace TokenInjector.Serving;

/// <summary>
/// Serves the token API over HTTP/1.1 on a Unix socket only, never TCP. The socket file gets the configured mode
/// (0660 by default) so that only the pod's own containers sharing the volume and group can read tokens.
/// </summary>
internal sealed class TokenApiServer(TokenApiOptions options, TokenApiHandler handler, ILoggerFactory loggerFactory) : IHostedService
{
    private readonly ILogger _logger = loggerFactory.CreateLogger<TokenApiServer>();
    private WebApplication? _app;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var path = options.SocketPath;
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        if (File.Exists(path))
        {
            // A socket left behind by a previous run of this container; binding would fail on it.
            File.Delete(path);
        }

        _app = LocalWebServer.Create(loggerFactory, kestrel =>
        {
            // Long queries must reach the handler so that it can say what is wrong; only local processes can connect.
            kestrel.Limits.MaxRequestLineSize = RequestLineGuard.MaxRequestLineBytes;
            kestrel.Limits.MaxRequestBufferSize = 4 * 1024 * 1024;
            kestrel.ListenUnixSocket(path, listen =>
            {
                listen.Protocols = HttpProtocols.Http1;
                listen.Use(RequestLineGuard.Guard);
            });
        });
        _app.Run(handler.HandleAsync);
        await _app.StartAsync(cancellationToken);
        File.SetUnixFileMode(path, options.SocketMode);
        _logger.TokenApiListening(path);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_app is not null)
        {
            await _app.StopAsync(cancellationToken);
            await _app.DisposeAsync();
        }

        File.Delete(options.SocketPath);
    }
}
