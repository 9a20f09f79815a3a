using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using TokenInjector.DevStack.Kubernetes;
using TokenInjector.Plumbing;
using TokenInjector.Tests.Support;
using TokenInjector.Webhook;

namespace TokenInjector.Tests.Webhook;

/// <summary>
/// An <c>injector webhook</c> that keeps its own certificate (<c>--tls-secret</c>), in this process on a free
/// loopback port and on the test's clock, against the API server stand-in; and clients that trust nothing but the
/// caBundle the webhook configuration holds at the moment they connect, as the API server does.
/// </summary>
internal sealed class KeptCertificateWebhook : IAsyncDisposable
{
    public const string Namespace = RunningWebhook.OwnNamespace;
    public const string SecretName = "token-injector-webhook-tls";
    public const string DnsName = "token-injector-webhook.token-injector.svc";
    public const string Mutating = "mutatingwebhookconfigurations";
    public const string Validating = "validatingwebhookconfigurations";
    public const string MutatingName = "token-injector";
    public const string ValidatingName = "token-injector-workloads";

    private readonly WebApplication _app;
    private readonly FakeApiServer _api;
    private readonly TimeProvider _time;

    private KeptCertificateWebhook(WebApplication app, FakeApiServer api, TimeProvider time)
    {
        _app = app;
        _api = api;
        _time = time;
        Endpoint = IPEndPoint.Parse(LocalWebServer.BoundAddresses(app).Single().Authority);
        Keeper = app.Services.GetRequiredService<SelfManagedCertificate>();
        Serving = app.Services.GetRequiredService<ServingCertificate>();
        Metrics = app.Services.GetRequiredService<WebhookMetrics>();
    }

    public IPEndPoint Endpoint { get; }

    public SelfManagedCertificate Keeper { get; }

    public ServingCertificate Serving { get; }

    public WebhookMetrics Metrics { get; }

    /// <summary>The arguments every test starts with (the API server, the Secret, the Service's names unless given, both configurations).</summary>
    public static string[] Arguments(FakeApiServer api, TimeSpan interval, params string[] dnsNames) =>
    [
        "--listen", "127.0.0.1:0",
        "--tls-secret", SecretName,
        .. (dnsNames.Length == 0 ? [DnsName, DnsName + ".cluster.local"] : dnsNames).SelectMany(name => new[] { "--tls-dns-name", name }),
        "--mutating-webhook-configuration", MutatingName,
        "--validating-webhook-configuration", ValidatingName,
        "--tls-reload-interval", $"{interval.TotalSeconds}s",
        "--kubeconfig", api.KubeconfigFile,
        "--namespace", Namespace,
        "--sidecar-image", "ghcr.io/token-injector/injector:test",
        "--log-level", "warning",
    ];

    /// <summary>The webhook configurations as the chart renders them in this mode: entries calling the webhook's Service, no caBundle.</summary>
    public static void InstallConfigurations(FakeApiServer api)
    {
        api.PutWebhookConfiguration(Mutating, MutatingName, Namespace, "token-injector-webhook", "inject.token-injector.dev", "reinject.token-injector.dev");
        api.PutWebhookConfiguration(Validating, ValidatingName, Namespace, "token-injector-webhook", "workloads.token-injector.dev");
    }

    public static async Task<KeptCertificateWebhook> StartAsync(FakeApiServer api, TimeProvider time, IEnumerable<string> args)
    {
        var settings = WebhookSettings.From(WebhookSettings.Command.Parse([.. args], _ => null), _ => null);
        var app = await WebhookServer.StartAsync(settings, CancellationToken.None, time).Bounded();
        return new KeptCertificateWebhook(app, api, time);
    }

    /// <summary>The CAs in the caBundle of the mutating configuration's first entry now: what the API server trusts when it calls the webhook.</summary>
    public static X509Certificate2Collection Bundle(FakeApiServer api)
    {
        var trusted = new X509Certificate2Collection();
        if (api.CaBundles(Mutating, MutatingName) is [{ Length: > 0 } bundle, ..])
        {
            trusted.ImportFromPem(bundle);
        }

        return trusted;
    }

    /// <summary>True when every entry of both configurations holds the same caBundle, one that is not empty.</summary>
    public static bool BundlesAgree(FakeApiServer api) =>
        api.CaBundles(Mutating, MutatingName).Concat(api.CaBundles(Validating, ValidatingName)).Distinct().ToList() is [{ Length: > 0 }];

    /// <summary>
    /// A client on a new connection that trusts only the caBundle of the configuration as it is now (validity judged at
    /// the test's clock) and reaches this webhook by the Service's DNS name.
    /// </summary>
    public HttpClient BundleClient()
    {
        var handler = LoopbackHttp.Handler(Endpoint, Bundle(_api), _time.GetUtcNow());
        handler.PooledConnectionLifetime = TimeSpan.Zero;
        return new HttpClient(handler) { BaseAddress = new Uri($"https://{DnsName}:{Endpoint.Port}/"), Timeout = TestWait.Limit };
    }

    /// <summary>
    /// <c>/readyz</c> as the kubelet reads it, by the Service's DNS name, trusting the throwaway certificate served
    /// before the first real one (this test can pin it) and the Secret's own CA bundle.
    /// </summary>
    public async Task<(HttpStatusCode Status, string Body)> ReadyzAsync()
    {
        var trusted = new X509Certificate2Collection(Serving.Placeholder);
        if ((string?)_api.Get("secrets", Namespace, SecretName)?["data"]?["ca.crt"] is { } bundle)
        {
            try
            {
                trusted.ImportFromPem(System.Text.Encoding.ASCII.GetString(Convert.FromBase64String(bundle)));
            }
            catch (System.Security.Cryptography.CryptographicException)
            {
                // A Secret the webhook refuses: only the placeholder is served.
            }
        }

        using var client = new HttpClient(LoopbackHttp.Handler(Endpoint, trusted, _time.GetUtcNow())) { BaseAddress = new Uri($"https://{DnsName}:{Endpoint.Port}/") };
        using var response = await client.GetAsync(new Uri("readyz", UriKind.Relative)).Bounded();
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Posts one AdmissionReview over a connection that trusts only the caBundle; returns its <c>response</c>.</summary>
    public async Task<JsonNode> ReviewAsync(string uid)
    {
        using var client = BundleClient();
        using var answer = await client.PostAsync(
            new Uri("mutate", UriKind.Relative), RunningWebhook.ReviewContent(RunningWebhook.GoldenInput("controller-generate-name"), uid)).Bounded();
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        return JsonNode.Parse(await answer.Content.ReadAsStringAsync())!["response"]!;
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await _app.StopAsync(timeout.Token);
        await _app.DisposeAsync();
    }
}
