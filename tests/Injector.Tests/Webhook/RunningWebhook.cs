using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using TokenInjector.Plumbing;
using TokenInjector.Tests.Support;
using TokenInjector.Webhook;

namespace TokenInjector.Tests.Webhook;

/// <summary>
/// An <c>injector webhook</c> started from command-line arguments on a free loopback port, with a client that
/// trusts only the test CA and records the certificate each new connection was served.
/// </summary>
internal sealed class RunningWebhook : IAsyncDisposable
{
    public const string OwnNamespace = "token-injector";

    private readonly WebApplication _app;

    private RunningWebhook(WebApplication app, WebhookTestCertificates certificates, string address)
    {
        _app = app;
        Certificates = certificates;
        BaseAddress = new Uri("https://" + address);
    }

    public WebhookTestCertificates Certificates { get; }

    public Uri BaseAddress { get; }

    public static async Task<RunningWebhook> StartAsync(WebhookTestCertificates certificates, IEnumerable<string> extraArgs, CancellationToken cancellationToken)
    {
        string[] args =
        [
            "--listen", "127.0.0.1:0",
            "--tls-cert-file", certificates.CertFile,
            "--tls-key-file", certificates.KeyFile,
            "--tls-reload-interval", "0s",
            "--sidecar-image", "ghcr.io/token-injector/injector:test",
            "--namespace", OwnNamespace,
            "--log-level", "warning",
            .. extraArgs,
        ];
        var settings = WebhookSettings.From(WebhookSettings.Command.Parse(args, _ => null), _ => null);
        var app = await WebhookServer.StartAsync(settings, cancellationToken);
        return new RunningWebhook(app, certificates, LocalWebServer.BoundAddresses(app).Single().Authority);
    }

    /// <summary>A client on a connection of its own (no TLS resumption), so each call sees the certificate served now.</summary>
    public HttpClient NewClient(Action<X509Certificate2>? servedCertificate = null)
    {
        var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                AllowTlsResume = false,
                RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                {
                    var served = new X509Certificate2(certificate!);
                    servedCertificate?.Invoke(served);
                    return Certificates.Validate(served);
                },
            },
            PooledConnectionLifetime = TimeSpan.Zero,
        };
        return new HttpClient(handler) { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
    }

    /// <summary>Posts an AdmissionReview for <paramref name="pod"/> (to <c>/mutate</c>, or the <paramref name="path"/> given) and returns its <c>response</c>.</summary>
    public async Task<JsonNode> ReviewAsync(JsonNode pod, CancellationToken cancellationToken, string uid = "b5a1f4e2-0000-4000-8000-000000000001", string @namespace = "apps", string operation = "CREATE", string kind = "Pod", string path = "/mutate")
    {
        using var client = NewClient();
        using var response = await client.PostAsync(path, ReviewContent(pod, uid, @namespace, operation, kind), cancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var review = JsonNode.Parse(await response.Content.ReadAsStringAsync(cancellationToken))!;
        Assert.Equal("admission.k8s.io/v1", review["apiVersion"]!.GetValue<string>());
        Assert.Equal("AdmissionReview", review["kind"]!.GetValue<string>());
        return review["response"]!;
    }

    public static StringContent ReviewContent(JsonNode pod, string uid, string @namespace = "apps", string operation = "CREATE", string kind = "Pod")
    {
        var review = new JsonObject
        {
            ["apiVersion"] = "admission.k8s.io/v1",
            ["kind"] = "AdmissionReview",
            ["request"] = new JsonObject
            {
                ["uid"] = uid,
                ["kind"] = new JsonObject { ["group"] = Workloads.Group(kind), ["version"] = "v1", ["kind"] = kind },
                ["resource"] = new JsonObject { ["group"] = string.Empty, ["version"] = "v1", ["resource"] = "pods" },
                ["namespace"] = @namespace,
                ["operation"] = operation,
                ["userInfo"] = new JsonObject { ["username"] = "system:serviceaccount:kube-system:replicaset-controller" },
                ["object"] = pod.DeepClone(),
                ["dryRun"] = false,
            },
        };
        return new StringContent(review.ToJsonString(), Encoding.UTF8, "application/json");
    }

    /// <summary>Decodes the base64 JSON patch of an allowed response.</summary>
    public static JsonArray Patch(JsonNode response)
    {
        Assert.Equal("JSONPatch", response["patchType"]!.GetValue<string>());
        return JsonNode.Parse(Convert.FromBase64String(response["patch"]!.GetValue<string>()))!.AsArray();
    }

    public static JsonNode GoldenInput(string name) =>
        GoldenFixtures.Json(name + GoldenFixtures.InputSuffix);

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await _app.StopAsync(timeout.Token);
        await _app.DisposeAsync();
    }
}
