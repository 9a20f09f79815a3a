using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace TokenInjector.Tests.Support;

/// <summary>
/// A Cloud Run "container" for tests: plain HTTP/2 with prior knowledge (h2c) on a free loopback port, serving
/// <see cref="TestEchoService"/> plus <c>GET /headers</c> (the request headers it received, as JSON, with
/// <c>:authority</c> and the protocol) and <c>GET /hang</c> (never answers).
/// </summary>
internal sealed class H2cTestUpstream : IAsyncDisposable
{
    private readonly WebApplication _app;

    private H2cTestUpstream(WebApplication app, Uri uri)
    {
        _app = app;
        Uri = uri;
    }

    /// <summary><c>http://127.0.0.1:PORT</c>.</summary>
    public Uri Uri { get; }

    public static async Task<H2cTestUpstream> StartAsync()
    {
        var builder = LoopbackWebApp.CreateBuilder(listen => listen.Protocols = HttpProtocols.Http2);
        builder.Services.AddGrpc();
        var app = builder.Build();
        app.MapGrpcService<TestEchoService>();
        app.MapGet("/headers", (HttpContext context) =>
        {
            var headers = context.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString());
            headers[":authority"] = context.Request.Host.Value ?? string.Empty;
            headers[":protocol-version"] = context.Request.Protocol;
            return Results.Json(headers);
        });
        app.MapGet("/hang", async (HttpContext context) =>
        {
            await Task.Delay(Timeout.Infinite, context.RequestAborted);
            return Results.Ok();
        });
        return new H2cTestUpstream(app, new Uri(await LoopbackWebApp.StartAsync(app)));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().WaitAsync(TestWait.Limit);
        await _app.DisposeAsync();
    }
}
