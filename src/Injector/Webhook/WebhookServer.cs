using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace TokenInjector.Webhook;

/// <summary>Builds the webhook's HTTPS server from its settings: Kestrel, the routes, and the services behind them.</summary>
internal static class WebhookServer
{
    public static WebApplication Build(WebhookSettings settings)
    {
        var builder = WebApplication.CreateSlimBuilder();
        settings.Logging.Apply(builder.Logging);
        builder.Services.AddSingleton(settings);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<WebhookMetrics>();
        builder.Services.AddSingleton(services => new ReloadingCertificate(
            settings.TlsCertFile,
            settings.TlsKeyFile,
            settings.TlsReloadInterval,
            services.GetRequiredService<TimeProvider>(),
            services.GetRequiredService<ILogger<ReloadingCertificate>>()));
        builder.Services.AddSingleton(services =>
        {
            var logger = services.GetRequiredService<ILogger<WorkloadIdentityCheck>>();
            return new WorkloadIdentityCheck(
                CreateLookup(settings, logger),
                settings.ServiceAccountTimeout,
                settings.ServiceAccountCacheTtl,
                services.GetRequiredService<TimeProvider>(),
                logger);
        });
        builder.Services.AddSingleton<AdmissionHandler>();

        builder.WebHost.ConfigureKestrel((context, kestrel) =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = null; // The handler enforces its own limit and answers 400.
            kestrel.Listen(settings.ListenEndpoint, listen =>
            {
                var certificate = kestrel.ApplicationServices.GetRequiredService<ReloadingCertificate>();
                listen.UseHttps(new HttpsConnectionAdapterOptions
                {
                    ServerCertificateSelector = (_, _) => certificate.Current,
                });
            });
        });

        var app = builder.Build();
        var handler = app.Services.GetRequiredService<AdmissionHandler>();
        var metrics = app.Services.GetRequiredService<WebhookMetrics>();
        app.MapPost("/mutate", handler.HandleAsync);
        app.MapPost("/validate", handler.ValidateAsync);
        app.MapGet("/healthz", () => Results.Text("ok\n"));
        app.MapGet("/readyz", () => Results.Text("ok\n"));
        app.MapGet("/metrics", async context =>
        {
            context.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
            await metrics.Registry.CollectAndExportAsTextAsync(context.Response.Body, context.RequestAborted);
        });
        return app;
    }

    /// <summary>Starts the server; the certificate is loaded first, so a bad key fails here rather than at the first handshake.</summary>
    public static async Task<WebApplication> StartAsync(WebhookSettings settings, CancellationToken cancellationToken)
    {
        var app = Build(settings);
        _ = app.Services.GetRequiredService<ReloadingCertificate>();
        await app.StartAsync(cancellationToken);
        var logger = app.Services.GetRequiredService<ILogger<AdmissionHandler>>();
        foreach (var address in BoundAddresses(app))
        {
            logger.Listening(address);
        }

        return app;
    }

    /// <summary>The HOST:PORT the server listens on (port 0 in the settings resolved to the real one).</summary>
    public static IReadOnlyList<string> BoundAddresses(WebApplication app) =>
        app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses
            .Select(a => new Uri(a).Authority).ToList() ?? [];

    private static KubernetesServiceAccountLookup? CreateLookup(WebhookSettings settings, ILogger logger)
    {
        try
        {
            return KubernetesServiceAccountLookup.Create(settings.KubeconfigFile);
        }
        catch (Exception ex)
        {
            logger.ServiceAccountChecksDisabled(ex.Message);
            return null;
        }
    }
}
