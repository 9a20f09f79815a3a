using Prometheus;
using TokenInjector.Configuration;
using TokenInjector.MetadataApi;
using TokenInjector.Proxy;
using TokenInjector.Serving;
using TokenInjector.Tokens;

namespace TokenInjector.Hosting;

/// <summary>What tests (and only tests) replace when they host a sidecar in-process.</summary>
internal sealed record SidecarHostOverrides
{
    public TimeProvider? Time { get; init; }

    public IIdTokenSource? TokenSource { get; init; }

    public Action<ILoggingBuilder>? Logging { get; init; }
}

/// <summary>
/// Wires the sidecar's parts into one generic host: the one place that knows every part, and that hands each the
/// narrow options it takes rather than the whole <see cref="SidecarSettings"/>.
/// </summary>
internal static class SidecarHost
{
    public static IHost Build(SidecarSettings settings, SidecarHostOverrides? overrides = null)
    {
        overrides ??= new SidecarHostOverrides();
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        settings.Logging.Apply(builder.Logging);
        overrides.Logging?.Invoke(builder.Logging);

        var services = builder.Services;
        services.Configure<HostOptions>(options =>
        {
            options.ShutdownTimeout = settings.DrainTimeout;
            options.BackgroundServiceExceptionBehavior = BackgroundServiceExceptionBehavior.StopHost;
        });
        services.AddSingleton(overrides.Time ?? TimeProvider.System);
        services.AddSingleton(Metrics.NewCustomRegistry());
        services.AddSingleton<TokenMetrics>();
        services.AddSingleton<WorkloadIdentityRefusals>();
        services.AddSingleton(provider => overrides.TokenSource ?? GoogleIdTokenSource.Create(
            settings.TokenSource,
            settings.AdcCredentials,
            settings.Impersonations,
            settings.IamCredentialsUrl,
            settings.FetchTimeout,
            provider.GetRequiredService<WorkloadIdentityRefusals>()));
        services.AddSingleton(new TokenCacheOptions(
            settings.Audiences, settings.AllowDynamicAudiences, settings.MaxDynamicAudiences, settings.DynamicAudienceIdle));
        if (settings.TokenDirectory is { } tokenDirectory)
        {
            services.AddSingleton<ITokenObserver>(provider =>
                new TokenFileWriter(tokenDirectory, settings.Audiences, provider.GetRequiredService<ILogger<TokenFileWriter>>()));
        }

        services.AddSingleton<TokenCache>();
        services.AddSingleton<ITokenCache>(provider => provider.GetRequiredService<TokenCache>());
        services.AddHostedService(provider => provider.GetRequiredService<TokenCache>());
        services.AddHostedService<MemoryRelease>();
        if (settings.MetadataPort is { } metadataPort)
        {
            // Before the admin listener: /readyz, which holds the app containers back, answers once the endpoint
            // listens. Off GKE there is no metadata server to forward to: the endpoint answers what the credentials tell.
            services.AddSingleton(new MetadataOptions(
                metadataPort,
                settings.ListenAddress,
                settings.TokenSource == TokenSourceKind.Adc ? null : settings.MetadataServer,
                new LocalMetadata(settings.AdcCredentials?.ServiceAccountEmail, settings.AdcCredentials?.ProjectId),
                settings.FetchTimeout));
            services.AddSingleton<MetadataMetrics>();
            services.AddSingleton<MetadataServer>();
            services.AddHostedService(provider => provider.GetRequiredService<MetadataServer>());
        }

        services.AddSingleton(new TokenApiOptions(settings.SocketPath, settings.SocketMode));
        services.AddSingleton<TokenApiHandler>();
        services.AddSingleton<TokenApiServer>();
        services.AddHostedService(provider => provider.GetRequiredService<TokenApiServer>());
        services.AddSingleton(new AdminOptions(settings.AdminEndpoint));
        services.AddSingleton<AdminServer>();
        services.AddHostedService(provider => provider.GetRequiredService<AdminServer>());

        // Registered last so that it stops first: routes and the egress port drain while tokens and the admin listener still serve.
        services.AddSingleton(new ProxyOptions(
            settings.Routes, settings.EgressPort, settings.EgressHosts, settings.Resolves, settings.ListenAddress, settings.UpstreamCaFile, settings.AuthHeader));
        services.AddSingleton<ProxyMetrics>();
        services.AddSingleton<ProxyServer>();
        services.AddHostedService(provider => provider.GetRequiredService<ProxyServer>());
        return builder.Build();
    }
}
