using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace TokenInjector.Plumbing;

/// <summary>
/// A minimal Kestrel application for one listener role. Each role (token API, admin, proxy) gets its own server
/// so that its limits and pipeline are its own and nothing of one can be reached through another's listener:
/// the token API cannot end up on a TCP port by a routing mistake.
/// </summary>
internal static class LocalWebServer
{
    public static WebApplication Create(
        ILoggerFactory loggerFactory, Action<KestrelServerOptions> configureKestrel, Action<IServiceCollection>? configureServices = null)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = "injector" });
        builder.Services.AddSingleton(loggerFactory);
        builder.Services.AddLogging();
        builder.Services.AddSingleton<IHostLifetime, ExternallyControlledLifetime>();
        // A burst of clients right after start (every replica of an app asking at once) must queue, not be refused.
        builder.WebHost.UseSockets(sockets => sockets.Backlog = 4096);
        configureServices?.Invoke(builder.Services);
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            configureKestrel(kestrel);
        });
        return builder.Build();
    }

    /// <summary>The addresses a started server (this one's or any other) bound, with the real port when 0 was asked for.</summary>
    public static IReadOnlyList<Uri> BoundAddresses(WebApplication app) =>
        app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.Select(address => new Uri(address)).ToList() ?? [];
}
