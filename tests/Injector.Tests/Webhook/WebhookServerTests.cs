using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using TokenInjector.Tests.Support;

namespace TokenInjector.Tests.Webhook;

/// <summary>The webhook over real HTTPS: what the API server would send, and what a misbehaving client could.</summary>
public sealed class WebhookServerTests : IAsyncLifetime, IDisposable
{
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(60));
    private WebhookTestCertificates _certificates = null!;
    private RunningWebhook _webhook = null!;

    private CancellationToken Timeout => _timeout.Token;

    public async Task InitializeAsync()
    {
        _certificates = WebhookTestCertificates.Create();
        _webhook = await RunningWebhook.StartAsync(_certificates, ["--prometheus-scrape", "true"], Timeout);
    }

    public async Task DisposeAsync()
    {
        await _webhook.DisposeAsync();
        _certificates.Dispose();
    }

    public void Dispose() => _timeout.Dispose();

    [Fact]
    public async Task Mutate_ControllerPod_AnswersWithUidAndBase64JsonPatch()
    {
        var pod = RunningWebhook.GoldenInput("controller-generate-name");

        var response = await _webhook.ReviewAsync(pod, Timeout, uid: "705ab4f5-6393-11e8-b7cc-42010a800002");

        Assert.Equal("705ab4f5-6393-11e8-b7cc-42010a800002", response["uid"]!.GetValue<string>());
        Assert.True(response["allowed"]!.GetValue<bool>());
        var mutated = JsonPatchApplier.Apply(pod, RunningWebhook.Patch(response));
        var sidecar = mutated["spec"]!["initContainers"]!.AsArray().Single(c => c!["name"]!.GetValue<string>() == "token-injector")!;
        Assert.Equal("ghcr.io/token-injector/injector:test", sidecar["image"]!.GetValue<string>());
        Assert.Equal("Always", sidecar["restartPolicy"]!.GetValue<string>());
        Assert.Equal("true", mutated["metadata"]!["annotations"]!["prometheus.io/scrape"]!.GetValue<string>());
        Assert.Null(mutated["metadata"]!["name"]);
    }

    [Fact]
    public async Task Mutate_RepostedMutatedPod_AllowedWithoutPatch()
    {
        var pod = RunningWebhook.GoldenInput("job-pod");
        var first = await _webhook.ReviewAsync(pod, Timeout);
        var mutated = JsonPatchApplier.Apply(pod, RunningWebhook.Patch(first));

        var second = await _webhook.ReviewAsync(mutated, Timeout, uid: "second");

        Assert.Equal("second", second["uid"]!.GetValue<string>());
        Assert.True(second["allowed"]!.GetValue<bool>());
        Assert.Null(second["patch"]);
        Assert.Null(second["patchType"]);
    }

    [Fact]
    public async Task Mutate_ReinvokedWithTheSidecarStripped_PatchRestoresItAndWarnsWhatWasRestored()
    {
        var pod = RunningWebhook.GoldenInput("sidecar-stripped-by-another-webhook");

        var response = await _webhook.ReviewAsync(pod, Timeout, uid: "reinvoked");

        Assert.True(response["allowed"]!.GetValue<bool>());
        var sidecar = JsonPatchApplier.Apply(pod, RunningWebhook.Patch(response))["spec"]!["initContainers"]![0]!;
        Assert.Equal("Always", sidecar["restartPolicy"]!.GetValue<string>());
        Assert.Equal("/readyz", sidecar["startupProbe"]!["httpGet"]!["path"]!.GetValue<string>());
        Assert.Contains(response["warnings"]!.AsArray(), w => w!.GetValue<string>().Contains("restartPolicy of token-injector", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Mutate_BadAnnotation_DeniedWithMessageNamingAnnotationAndForm()
    {
        var pod = RunningWebhook.GoldenInput("controller-generate-name");
        pod["metadata"]!["annotations"]!["token-injector.dev/routes"] = "8080=echo.a.run.app";

        var response = await _webhook.ReviewAsync(pod, Timeout, uid: "denied-1");

        Assert.Equal("denied-1", response["uid"]!.GetValue<string>());
        Assert.False(response["allowed"]!.GetValue<bool>());
        Assert.Null(response["patch"]);
        var message = response["status"]!["message"]!.GetValue<string>();
        Assert.Contains("token-injector.dev/routes", message, StringComparison.Ordinal);
        Assert.Contains("'8080=echo.a.run.app'", message, StringComparison.Ordinal);
        Assert.Contains("PORT=https://HOST[:PORT][;header=MODE][=AUDIENCE]", message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(PodMutatorGoldenTests.Denials), MemberType = typeof(PodMutatorGoldenTests))]
    public async Task Mutate_PodWithAClashOrHostNetwork_NotAllowed_WithTheWholeMessage(string name)
    {
        var response = await _webhook.ReviewAsync(RunningWebhook.GoldenInput(name), Timeout, uid: name);

        Assert.False(response["allowed"]!.GetValue<bool>());
        Assert.Null(response["patch"]);
        var expected = GoldenFixtures.Text(name + GoldenFixtures.DenialSuffix).TrimEnd('\n');
        Assert.Equal(expected, response["status"]!["message"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("own namespace", RunningWebhook.OwnNamespace, "CREATE", "Pod")]
    [InlineData("kube-system", "kube-system", "CREATE", "Pod")]
    [InlineData("update", "apps", "UPDATE", "Pod")]
    [InlineData("not a pod", "apps", "CREATE", "Deployment")]
    public async Task Mutate_RequestsItMustNotTouch_AllowedWithoutPatch(string name, string @namespace, string operation, string kind)
    {
        var response = await _webhook.ReviewAsync(RunningWebhook.GoldenInput("controller-generate-name"), Timeout, uid: name, @namespace: @namespace, operation: operation, kind: kind);

        Assert.Equal(name, response["uid"]!.GetValue<string>());
        Assert.True(response["allowed"]!.GetValue<bool>());
        Assert.Null(response["patch"]);
    }

    [Theory]
    [InlineData("not json", "this is not json")]
    [InlineData("empty", "")]
    [InlineData("truncated", """{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"x","object":{""")]
    [InlineData("no request", """{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}""")]
    [InlineData("no uid", """{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"kind":{"group":"","version":"v1","kind":"Pod"},"operation":"CREATE","object":{}}}""")]
    [InlineData("wrong version", """{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","request":{"uid":"x"}}""")]
    [InlineData("no object", """{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"x","kind":{"group":"","version":"v1","kind":"Pod"},"operation":"CREATE","namespace":"apps"}}""")]
    [InlineData("object not a pod", """{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"x","kind":{"group":"","version":"v1","kind":"Pod"},"operation":"CREATE","namespace":"apps","object":{"spec":{"containers":"many"}}}}""")]
    [InlineData("array", "[1,2,3]")]
    public async Task Mutate_MalformedBody_Answers400AndKeepsServing(string name, string body)
    {
        using var client = _webhook.NewClient();

        using var response = await client.PostAsync("/mutate", new StringContent(body, Encoding.UTF8, "application/json"), Timeout);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.StartsWith("bad admission request: ", await response.Content.ReadAsStringAsync(Timeout), StringComparison.Ordinal);
        await AssertStillServingAsync(name);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Mutate_OversizedBody_Answers400AndKeepsServing(bool withContentLength)
    {
        using var client = _webhook.NewClient();
        var padding = new string(' ', (3 * 1024 * 1024) + 1);
        using var review = RunningWebhook.ReviewContent(RunningWebhook.GoldenInput("job-pod"), "big");
        var body = Encoding.UTF8.GetBytes(await review.ReadAsStringAsync(Timeout) + padding);
        HttpContent content = withContentLength
            ? new ByteArrayContent(body)
            : new StreamContent(new MemoryStream(body)); // No length known: sent chunked.
        content.Headers.ContentType = new("application/json");
        if (!withContentLength)
        {
            content.Headers.ContentLength = null;
        }

        using var response = await client.PostAsync("/mutate", content, Timeout);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("bytes", await response.Content.ReadAsStringAsync(Timeout), StringComparison.Ordinal);
        await AssertStillServingAsync("oversized");
    }

    [Fact]
    public async Task ServingCertificate_FilesReplaced_NewCertificateServedWithoutRestart()
    {
        var before = await ServedThumbprintAsync();
        var written = _certificates.WriteServingCertificate("token-injector-webhook-rotated");
        Assert.NotEqual(before, written);

        var after = await ServedThumbprintAsync();

        Assert.Equal(written, after);
    }

    [Fact]
    public async Task ServingCertificate_HalfWrittenPair_KeepsServingThePreviousOne()
    {
        var before = await ServedThumbprintAsync();
        await File.WriteAllTextAsync(_certificates.KeyFile, "-----BEGIN PRIVATE KEY-----\ngarbage\n-----END PRIVATE KEY-----\n", Timeout);

        var during = await ServedThumbprintAsync();

        Assert.Equal(before, during);
    }

    [Fact]
    public async Task ServingCertificate_FilesReplaced_ExpiryMetricFollows()
    {
        _certificates.WriteServingCertificate("token-injector-webhook-rotated");
        X509Certificate2? served = null;
        using var client = _webhook.NewClient(certificate => served = certificate);

        var metrics = await client.GetStringAsync("/metrics", Timeout);

        var notAfter = new DateTimeOffset(served!.NotAfter.ToUniversalTime()).ToUnixTimeSeconds();
        Assert.Contains($"\ntoken_injector_webhook_certificate_expiry_timestamp_seconds {notAfter}\n", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HealthAndMetrics_AreServed()
    {
        await _webhook.ReviewAsync(RunningWebhook.GoldenInput("init-containers"), Timeout);
        using var client = _webhook.NewClient();

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz", Timeout)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/readyz", Timeout)).StatusCode);
        var metrics = await client.GetStringAsync("/metrics", Timeout);

        Assert.Contains("token_injector_webhook_admissions_total{result=\"mutated\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("token_injector_webhook_admission_duration_seconds_count 1", metrics, StringComparison.Ordinal);
    }

    private async Task<string> ServedThumbprintAsync()
    {
        X509Certificate2? served = null;
        using var client = _webhook.NewClient(certificate => served = certificate);
        using var response = await client.GetAsync("/healthz", Timeout);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.NotNull(served);
        return served.Thumbprint;
    }

    private async Task AssertStillServingAsync(string after)
    {
        var response = await _webhook.ReviewAsync(RunningWebhook.GoldenInput("job-pod"), Timeout, uid: "after-" + after);
        Assert.True(response["allowed"]!.GetValue<bool>());
        Assert.NotNull(response["patch"]);
    }
}
