using Microsoft.AspNetCore.Server.Kestrel.Https;
using TokenInjector.Plumbing;

namespace TokenInjector.Webhook;

/// <summary>Builds the webhook's HTTPS server from its settings: Kestrel, the routes, and the services behind them.</summary>
internal static class WebhookServer
{
    /// <summary>The app for <paramref name="settings"/>, on <paramref name="time"/> (the system clock unless a test steps one).</summary>
    public static WebApplication Build(WebhookSettings settings, TimeProvider? time = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        settings.Logging.Apply(builder.Logging);
        builder.Services.AddSingleton(time ?? TimeProvider.System);
        builder.Services.AddSingleton<WebhookMetrics>();
        builder.Services.AddSingleton(services => new ServingCertificate(
            services.GetRequiredService<WebhookMetrics>(),
            services.GetRequiredService<TimeProvider>(),
            services.GetRequiredService<ILogger<ServingCertificate>>(),
            settings.SelfManaged?.DnsNames ?? []));
        if (settings.SelfManaged is { } selfManaged)
        {
            builder.Services.AddSingleton(services => new SelfManagedCertificate(
                selfManaged,
                () => KubernetesServiceAccountLookup.Connect(settings.KubeconfigFile),
                services.GetRequiredService<ServingCertificate>(),
                services.GetRequiredService<TimeProvider>(),
                services.GetRequiredService<ILogger<SelfManagedCertificate>>()));
            builder.Services.AddHostedService(services => services.GetRequiredService<SelfManagedCertificate>());
        }
        else
        {
            builder.Services.AddSingleton(services => new ReloadingCertificate(
                settings.TlsCertFile!,
                settings.TlsKeyFile!,
                settings.TlsReloadInterval,
                services.GetRequiredService<ServingCertificate>(),
                services.GetRequiredService<TimeProvider>(),
                services.GetRequiredService<ILogger<ReloadingCertificate>>()));
        }

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
        builder.Services.AddSingleton(new AdmissionOptions(settings.Namespace, settings.Sidecar));
        builder.Services.AddSingleton<AdmissionHandler>();

        builder.WebHost.ConfigureKestrel((context, kestrel) =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = null; // The handler enforces its own limit and answers 400.
            kestrel.Listen(settings.ListenEndpoint, listen =>
            {
                // Files are checked on the handshake path; the self-managed certificate is pushed by its own loop.
                var files = kestrel.ApplicationServices.GetService<ReloadingCertificate>();
                var serving = kestrel.ApplicationServices.GetRequiredService<ServingCertificate>();
                listen.UseHttps(new HttpsConnectionAdapterOptions
                {
                    ServerCertificateSelector = (_, _) => files?.Current ?? serving.Current,
                });
            });
        });

        var app = builder.Build();
        var handler = app.Services.GetRequiredService<AdmissionHandler>();
        var metrics = app.Services.GetRequiredService<WebhookMetrics>();
        app.MapPost("/mutate", handler.HandleAsync);
        app.MapPost("/validate", handler.ValidateAsync);
        app.MapGet("/healthz", () => Results.Text("ok\n"));
        var keeper = app.Services.GetService<SelfManagedCertificate>();
        app.MapGet("/readyz", () => keeper?.NotReadyReason is { } reason
            ? Results.Text($"not ready: {reason}\n", statusCode: StatusCodes.Status503ServiceUnavailable)
            : Results.Text("ok\n"));
        app.MapGet("/metrics", async context =>
        {
            context.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
            await metrics.Registry.CollectAndExportAsTextAsync(context.Response.Body, context.RequestAborted);
        });
        return app;
    }

    /// <summary>
    /// Starts the server; certificate files are loaded first, so a bad key fails here rather than at the first handshake.
    /// A self-managed certificate comes from its loop, which starts with the server and never stops it.
    /// </summary>
    public static async Task<WebApplication> StartAsync(WebhookSettings settings, CancellationToken cancellationToken, TimeProvider? time = null)
    {
        var app = Build(settings, time);
        _ = app.Services.GetService<ReloadingCertificate>();
        await app.StartAsync(cancellationToken);
        var logger = app.Services.GetRequiredService<ILogger<AdmissionHandler>>();
        foreach (var address in LocalWebServer.BoundAddresses(app))
        {
            logger.Listening(address.Authority);
        }

        return app;
    }

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
