using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace TokenInjector.SampleWorkload.Server;

/// <summary>
/// The sample gRPC service as an ASP.NET Core app: h2c only (HTTP/2 with prior knowledge, which is what Cloud Run's
/// "HTTP/2 end-to-end" mode speaks to the container), the <c>Echo</c> service and <c>GET /whoami</c>.
/// </summary>
internal static class EchoServer
{
    public static WebApplication Build(EchoServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = [],
            ApplicationName = typeof(EchoServer).Assembly.GetName().Name,
        });

        // The listen endpoint comes from PORT only; ASPNETCORE_URLS / ASPNETCORE_HTTP_PORTS (set by the .NET base
        // images) would otherwise be reported as overridden.
        builder.WebHost.UseSetting(WebHostDefaults.ServerUrlsKey, string.Empty);
        builder.WebHost.UseSetting(WebHostDefaults.HttpPortsKey, string.Empty);
        builder.WebHost.UseSetting(WebHostDefaults.HttpsPortsKey, string.Empty);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            // An h2c-only endpoint cannot speak HTTP/1.1, so /whoami is served over HTTP/2 as well.
            kestrel.Listen(options.Listen, listen =>
            {
                listen.Protocols = HttpProtocols.Http2;
                if (options.Certificate is { } certificate)
                {
                    listen.UseHttps(certificate);
                }
            });
            // gRPC enforces its own per-message limit (SampleLimits.MaxMessageSize); Kestrel's 30 MB body limit
            // would otherwise cut large unary calls short of it.
            kestrel.Limits.MaxRequestBodySize = null;
        });

        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(options.MinimumLogLevel);
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", options.MinimumLogLevel);
        // gRPC logs every failed call at Information; failing calls on request is this service's job.
        builder.Logging.AddFilter("Grpc", LogLevel.Warning);
        builder.Logging.AddSimpleConsole(console =>
        {
            console.SingleLine = true;
            console.UseUtcTimestamp = true;
            console.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
        });

        builder.Services.AddGrpc(grpc =>
        {
            grpc.MaxReceiveMessageSize = SampleLimits.MaxMessageSize;
            grpc.MaxSendMessageSize = SampleLimits.MaxMessageSize;
        });

        var app = builder.Build();
        app.MapGrpcService<EchoService>();
        WhoAmIEndpoint.Map(app);
        return app;
    }

    /// <summary>The address the started server is bound to, with the real port when port 0 was asked for.</summary>
    public static Uri GetBoundUri(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>();
        var first = addresses?.Addresses.FirstOrDefault()
            ?? throw new InvalidOperationException("The echo server is not started: it has no bound address yet.");
        return new Uri(first);
    }
}
