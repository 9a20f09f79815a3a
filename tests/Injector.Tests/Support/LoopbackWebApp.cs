using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace TokenInjector.Tests.Support;

/// <summary>
/// What every test server (a fake API server, a token issuer, an upstream) starts from: a slim ASP.NET Core app that
/// logs nothing and listens on one loopback port, and the address it got once started.
/// </summary>
internal static class LoopbackWebApp
{
    /// <summary>
    /// A builder whose app listens on 127.0.0.1:<paramref name="port"/> (0: the system picks a free one), configured by
    /// <paramref name="listen"/> (HTTPS, protocols) when given.
    /// </summary>
    public static WebApplicationBuilder CreateBuilder(Action<ListenOptions>? listen = null, int port = 0)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port, listen ?? (_ => { })));
        return builder;
    }

    /// <summary>Starts <paramref name="app"/> and returns where it listens, as <c>http(s)://127.0.0.1:PORT</c>.</summary>
    public static async Task<string> StartAsync(WebApplication app, CancellationToken cancellationToken = default)
    {
        await app.StartAsync(cancellationToken).WaitAsync(TestWait.Limit, cancellationToken);
        return app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
    }
}
