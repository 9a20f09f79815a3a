using System.Diagnostics;
using System.Text.Json.Nodes;
using TokenInjector.Tests.Support;

namespace TokenInjector.Tests.Webhook;

/// <summary>
/// The Workload Identity warning, through KubernetesClient and a kubeconfig file against a fake API server on
/// loopback. The look-up is advice: when the API server is down or silent the pod is still admitted, in time.
/// </summary>
public sealed class WorkloadIdentityWarningTests : IDisposable
{
    private static readonly TimeSpan LookupTimeout = TimeSpan.FromMilliseconds(750);

    // Beyond the look-up's own limit: TLS to the webhook and the rest of the request on a busy 2-core machine.
    private static readonly TimeSpan Slack = TimeSpan.FromSeconds(3);
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(60));
    private readonly WebhookTestCertificates _certificates = WebhookTestCertificates.Create();

    private CancellationToken Timeout => _timeout.Token;

    [Fact]
    public async Task AnnotatedServiceAccount_NoWarning()
    {
        await using var api = await _certificates.StartApiServerAsync(Timeout);
        api.PutServiceAccount("apps", "echo-client", new() { ["iam.gke.io/gcp-service-account"] = "echo-client@proj.iam.gserviceaccount.com" });
        await using var webhook = await StartWebhookAsync(api.KubeconfigFile);

        var response = await webhook.ReviewAsync(RunningWebhook.GoldenInput("controller-generate-name"), Timeout);

        Assert.True(response["allowed"]!.GetValue<bool>());
        Assert.NotNull(response["patch"]);
        Assert.Null(response["warnings"]);
        Assert.Equal(1, api.Requests);
    }

    [Fact]
    public async Task UnannotatedServiceAccount_WarnsNamingTheAnnotation_AndCachesTheAnswer()
    {
        await using var api = await _certificates.StartApiServerAsync(Timeout);
        api.PutServiceAccount("apps", "echo-client", new() { ["owner"] = "team-a" });
        await using var webhook = await StartWebhookAsync(api.KubeconfigFile);

        var first = await webhook.ReviewAsync(RunningWebhook.GoldenInput("controller-generate-name"), Timeout);
        var second = await webhook.ReviewAsync(RunningWebhook.GoldenInput("controller-generate-name"), Timeout, uid: "second");

        foreach (var response in new[] { first, second })
        {
            Assert.True(response["allowed"]!.GetValue<bool>());
            Assert.NotNull(response["patch"]);
            var warning = Assert.Single(response["warnings"]!.AsArray())!.GetValue<string>();
            Assert.Contains("iam.gke.io/gcp-service-account", warning, StringComparison.Ordinal);
            Assert.Contains("apps/echo-client", warning, StringComparison.Ordinal);
        }

        Assert.Equal(1, api.Requests);
    }

    // Under Workload Identity Federation for GKE a Kubernetes service account with no Google one still gets access
    // tokens, which is all impersonation needs; only the pod's own ID tokens need the binding.
    [Theory]
    [InlineData("invoker@proj.iam.gserviceaccount.com", false)]
    [InlineData("invoker@proj.iam.gserviceaccount.com=https://echo-abc123-uc.a.run.app", true)]
    public async Task UnannotatedServiceAccount_WarnsOnlyWhenSomeTokensAreThePodsOwn(string impersonate, bool warned)
    {
        await using var api = await _certificates.StartApiServerAsync(Timeout);
        api.PutServiceAccount("apps", "echo-client", new() { ["owner"] = "team-a" });
        await using var webhook = await StartWebhookAsync(api.KubeconfigFile);
        var pod = RunningWebhook.GoldenInput("controller-generate-name");
        pod["metadata"]!["annotations"]!["token-injector.dev/impersonate"] = impersonate;

        var response = await webhook.ReviewAsync(pod, Timeout);

        Assert.True(response["allowed"]!.GetValue<bool>());
        Assert.NotNull(response["patch"]);
        Assert.Equal(warned, response["warnings"] is JsonArray warnings && warnings.Any(w => w!.GetValue<string>().Contains("iam.gke.io/gcp-service-account", StringComparison.Ordinal)));
        Assert.Equal(warned ? 1 : 0, api.Requests);
    }

    [Fact]
    public async Task PodWithoutServiceAccountName_ChecksTheDefaultAccount()
    {
        await using var api = await _certificates.StartApiServerAsync(Timeout);
        api.PutServiceAccount("reports", "default", []);
        await using var webhook = await StartWebhookAsync(api.KubeconfigFile);

        var response = await webhook.ReviewAsync(RunningWebhook.GoldenInput("init-containers"), Timeout, @namespace: "reports");

        Assert.Contains("reports/default", Assert.Single(response["warnings"]!.AsArray())!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ApiServerDown_AllowedWithoutWarning_WithinTheTimeout()
    {
        await using var webhook = await StartWebhookAsync(_certificates.WriteUnreachableKubeconfig());

        var elapsed = Stopwatch.StartNew();
        var response = await webhook.ReviewAsync(RunningWebhook.GoldenInput("controller-generate-name"), Timeout);
        elapsed.Stop();

        Assert.True(response["allowed"]!.GetValue<bool>());
        Assert.NotNull(response["patch"]);
        Assert.Null(response["warnings"]);
        Assert.True(elapsed.Elapsed < LookupTimeout + Slack, $"took {elapsed.Elapsed}");
    }

    [Fact]
    public async Task ApiServerHanging_AllowedWithoutWarning_AfterTheTimeout()
    {
        await using var api = await _certificates.StartApiServerAsync(Timeout);
        api.Hang = true;
        await using var webhook = await StartWebhookAsync(api.KubeconfigFile);

        var elapsed = Stopwatch.StartNew();
        var response = await webhook.ReviewAsync(RunningWebhook.GoldenInput("controller-generate-name"), Timeout);
        elapsed.Stop();

        Assert.True(response["allowed"]!.GetValue<bool>());
        Assert.NotNull(response["patch"]);
        Assert.Null(response["warnings"]);
        Assert.Equal(1, api.Requests);
        Assert.True(elapsed.Elapsed >= LookupTimeout - TimeSpan.FromMilliseconds(50), $"answered in {elapsed.Elapsed}, before the look-up could time out");
        Assert.True(elapsed.Elapsed < LookupTimeout + Slack, $"took {elapsed.Elapsed}");
    }

    public void Dispose()
    {
        _certificates.Dispose();
        _timeout.Dispose();
    }

    private Task<RunningWebhook> StartWebhookAsync(string kubeconfig) => RunningWebhook.StartAsync(
        _certificates,
        ["--kubeconfig", kubeconfig, "--service-account-timeout", $"{LookupTimeout.TotalMilliseconds}ms"],
        Timeout);
}
