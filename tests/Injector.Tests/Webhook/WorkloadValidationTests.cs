using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using TokenInjector.DevStack.Kubernetes;
using TokenInjector.Tests.Support;

namespace TokenInjector.Tests.Webhook;

/// <summary>
/// <c>POST /validate</c> over real HTTPS, with the Workload Identity look-up going through KubernetesClient to a fake
/// API server: a workload whose pod template asks for injection gets, when it is applied, the denial or the warnings
/// its pods would get from <c>/mutate</c>, word for word, and never a patch; anything else is allowed without a look-up.
/// </summary>
public sealed class WorkloadValidationTests : IAsyncLifetime, IDisposable
{
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(60));
    private WebhookTestCertificates _certificates = null!;
    private FakeApiServer _api = null!;
    private RunningWebhook _webhook = null!;

    private CancellationToken Timeout => _timeout.Token;

    public static TheoryData<string, string> KindsAndOperations()
    {
        var cases = new TheoryData<string, string>();
        foreach (var kind in Workloads.Kinds)
        {
            cases.Add(kind, "CREATE");
            cases.Add(kind, "UPDATE");
        }

        return cases;
    }

    public async Task InitializeAsync()
    {
        _certificates = WebhookTestCertificates.Create();
        _api = await _certificates.StartApiServerAsync(Timeout);
        _webhook = await RunningWebhook.StartAsync(_certificates, ["--kubeconfig", _api.KubeconfigFile], Timeout);
    }

    public async Task DisposeAsync()
    {
        await _webhook.DisposeAsync();
        await _api.DisposeAsync();
        _certificates.Dispose();
    }

    public void Dispose() => _timeout.Dispose();

    [Theory]
    [MemberData(nameof(KindsAndOperations))]
    public async Task Validate_TemplateClashingOnAPort_DeniedWithThePodsMessage(string kind, string operation)
    {
        var pod = RunningWebhook.GoldenInput("route-on-app-port");
        var podAnswer = await _webhook.ReviewAsync(pod, Timeout, uid: "pod", @namespace: "web");

        var answer = await ValidateAsync(Workloads.Wrap(kind, pod, @namespace: "web"), kind, operation, "web");

        Assert.False(podAnswer["allowed"]!.GetValue<bool>());
        Assert.False(answer["allowed"]!.GetValue<bool>());
        AssertNoPatch(answer);
        Assert.Equal(400, answer["status"]!["code"]!.GetValue<int>());
        Assert.Equal(podAnswer["status"]!["message"]!.GetValue<string>(), answer["status"]!["message"]!.GetValue<string>());
        Assert.Contains("uses port 8080, which container frontend declares", answer["status"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(KindsAndOperations))]
    public async Task Validate_TemplateWhoseServiceAccountHasNoWorkloadIdentity_AllowedWithTheWarning(string kind, string operation)
    {
        _api.PutServiceAccount("apps", "echo-client", new() { ["owner"] = "team-a" });

        var answer = await ValidateAsync(Workloads.Wrap(kind, RunningWebhook.GoldenInput("controller-generate-name")), kind, operation);

        Assert.True(answer["allowed"]!.GetValue<bool>());
        AssertNoPatch(answer);
        var warning = Assert.Single(answer["warnings"]!.AsArray())!.GetValue<string>();
        Assert.Contains("service account apps/echo-client has no iam.gke.io/gcp-service-account annotation", warning, StringComparison.Ordinal);
        Assert.Equal(1, _api.Requests);
    }

    [Fact]
    public async Task Validate_TemplateWithoutServiceAccountName_ChecksTheDefaultAccount()
    {
        _api.PutServiceAccount("apps", "default", []);
        var pod = RunningWebhook.GoldenInput("controller-generate-name");
        pod["spec"]!.AsObject().Remove("serviceAccountName");

        var answer = await ValidateAsync(Workloads.Wrap("Deployment", pod), "Deployment", "CREATE");

        Assert.Contains("apps/default", Assert.Single(answer["warnings"]!.AsArray())!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_TemplateWithABoundServiceAccount_AllowedWithoutWarnings()
    {
        _api.PutServiceAccount("apps", "echo-client", new() { ["iam.gke.io/gcp-service-account"] = "echo-client@proj.iam.gserviceaccount.com" });

        var answer = await ValidateAsync(Workloads.Wrap("Deployment", RunningWebhook.GoldenInput("controller-generate-name")), "Deployment", "CREATE");

        Assert.True(answer["allowed"]!.GetValue<bool>());
        AssertNoPatch(answer);
        Assert.Null(answer["warnings"]);
        Assert.Equal(1, _api.Requests);
    }

    [Fact]
    public async Task Validate_TemplateOfAnInjectedPod_GetsThePodsRestoreWarnings()
    {
        // A template copied from a running pod carries a sidecar that another webhook altered: its pods would be
        // restored with warnings, and the person applying it sees the same ones.
        _api.PutServiceAccount("apps", "echo-client", []);
        var pod = RunningWebhook.GoldenInput("sidecar-stripped-by-another-webhook");
        var podAnswer = await _webhook.ReviewAsync(pod, Timeout, uid: "pod");

        var answer = await ValidateAsync(Workloads.Wrap("Deployment", pod), "Deployment", "CREATE");

        Assert.True(answer["allowed"]!.GetValue<bool>());
        AssertNoPatch(answer);
        var podWarnings = podAnswer["warnings"]!.AsArray().Select(w => w!.GetValue<string>()).ToList();
        Assert.Contains(podWarnings, w => w.Contains("restartPolicy of token-injector", StringComparison.Ordinal));
        Assert.Contains(podWarnings, w => w.Contains("iam.gke.io/gcp-service-account", StringComparison.Ordinal));
        Assert.Equal(podWarnings, answer["warnings"]!.AsArray().Select(w => w!.GetValue<string>()));
    }

    [Theory]
    [MemberData(nameof(PodMutatorGoldenTests.Denials), MemberType = typeof(PodMutatorGoldenTests))]
    public async Task Validate_GoldenDenialsInADeployment_DeniedWithTheGoldenMessage(string name)
    {
        var answer = await ValidateAsync(Workloads.Wrap("Deployment", RunningWebhook.GoldenInput(name)), "Deployment", "CREATE");

        Assert.False(answer["allowed"]!.GetValue<bool>());
        AssertNoPatch(answer);
        var expected = GoldenFixtures.Text(name + GoldenFixtures.DenialSuffix).TrimEnd('\n');
        Assert.Equal(expected, answer["status"]!["message"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("no labels", null)]
    [InlineData("label false", "false")]
    [InlineData("label True", "True")]
    public async Task Validate_TemplateNotAskingForInjection_AllowedWithoutALookUp(string name, string? label)
    {
        // A clash that would be denied, and a service account that would be warned about: neither is looked at.
        _api.PutServiceAccount("web", "default", []);
        var pod = RunningWebhook.GoldenInput("route-on-app-port");
        var labels = pod["metadata"]!["labels"]!.AsObject();
        labels.Remove("token-injector.dev/inject");
        if (label is not null)
        {
            labels["token-injector.dev/inject"] = label;
        }

        var answer = await ValidateAsync(Workloads.Wrap("Deployment", pod, @namespace: "web"), "Deployment", "CREATE", "web", uid: name);

        Assert.Equal(name, answer["uid"]!.GetValue<string>());
        Assert.True(answer["allowed"]!.GetValue<bool>());
        AssertNoPatch(answer);
        Assert.Null(answer["warnings"]);
        Assert.Null(answer["status"]);
        Assert.Equal(0, _api.Requests);

        // The same Deployment asking for injection is judged (denied for the clash): the look-up was skipped, not broken.
        labels["token-injector.dev/inject"] = "true";
        Assert.False((await ValidateAsync(Workloads.Wrap("Deployment", pod, @namespace: "web"), "Deployment", "CREATE", "web"))["allowed"]!.GetValue<bool>());
    }

    [Theory]
    [InlineData("own namespace", RunningWebhook.OwnNamespace, "CREATE", "Deployment")]
    [InlineData("kube-system", "kube-system", "CREATE", "Deployment")]
    [InlineData("delete", "apps", "DELETE", "Deployment")]
    [InlineData("pod", "apps", "CREATE", "Pod")]
    [InlineData("service", "apps", "CREATE", "Service")]
    public async Task Validate_RequestsItDoesNotJudge_AllowedWithoutALookUp(string name, string @namespace, string operation, string kind)
    {
        var pod = RunningWebhook.GoldenInput("route-on-app-port");
        var answer = await ValidateAsync(kind == "Pod" ? pod : Workloads.Wrap("Deployment", pod, @namespace: @namespace), kind, operation, @namespace, uid: name);

        Assert.Equal(name, answer["uid"]!.GetValue<string>());
        Assert.True(answer["allowed"]!.GetValue<bool>());
        AssertNoPatch(answer);
        Assert.Null(answer["warnings"]);
        Assert.Equal(0, _api.Requests);
    }

    [Theory]
    [InlineData("finalizer removed while deleting", "Deployment")]
    [InlineData("old ReplicaSet scaled down in a rollout", "ReplicaSet")]
    public async Task Validate_UpdateThatLeavesADeniedTemplateAsItWas_Allowed_WithTheDenialAsAWarning(string name, string kind)
    {
        // The template is not what these updates change, and denying them would keep a deleted object alive, or stop a
        // rollout that replaces the template from scaling the old ReplicaSet down.
        var pod = RunningWebhook.GoldenInput("route-on-app-port");
        var denial = (await _webhook.ReviewAsync(pod, Timeout, uid: "pod", @namespace: "web"))["status"]!["message"]!.GetValue<string>();
        var before = Workloads.Wrap(kind, pod, @namespace: "web");
        var after = before.DeepClone();
        after["metadata"]!["deletionTimestamp"] = "2026-01-01T00:00:00Z";
        after["spec"]!["replicas"] = 0;
        using var content = RunningWebhook.ReviewContent(after, name, "web", "UPDATE", kind);
        var review = JsonNode.Parse(await content.ReadAsStringAsync(Timeout))!;
        review["request"]!["oldObject"] = before;

        var answer = await PostAsync(review.ToJsonString());

        Assert.True(answer["allowed"]!.GetValue<bool>());
        AssertNoPatch(answer);
        Assert.Equal(denial, answer["warnings"]![0]!.GetValue<string>());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Validate_Update_JudgesTheObjectAsAppliedNow_NotTheOldOne(bool newOneClashes)
    {
        var clashing = Workloads.Wrap("Deployment", RunningWebhook.GoldenInput("route-on-app-port"), @namespace: "web");
        var fine = Workloads.Wrap("Deployment", RunningWebhook.GoldenInput("controller-generate-name"), @namespace: "web");
        using var content = RunningWebhook.ReviewContent(newOneClashes ? clashing : fine, "update", "web", "UPDATE", "Deployment");
        var review = JsonNode.Parse(await content.ReadAsStringAsync(Timeout))!;
        review["request"]!["oldObject"] = newOneClashes ? fine : clashing;

        var answer = await PostAsync(review.ToJsonString());

        Assert.Equal(!newOneClashes, answer["allowed"]!.GetValue<bool>());
        AssertNoPatch(answer);
    }

    [Theory]
    [InlineData("no object", "Deployment", null, "request.object is missing or not an object")]
    [InlineData("no template", "Deployment", """{"metadata":{"name":"web"},"spec":{"replicas":1}}""", "request.object.spec.template is missing or not an object")]
    [InlineData("template not an object", "Job", """{"metadata":{"name":"web"},"spec":{"template":[1]}}""", "request.object.spec.template is missing or not an object")]
    [InlineData("cron job without a job template", "CronJob", """{"metadata":{"name":"web"},"spec":{"schedule":"* * * * *","template":{}}}""", "request.object.spec.jobTemplate.spec.template is missing or not an object")]
    [InlineData("template not a pod template", "StatefulSet", """{"metadata":{"name":"web"},"spec":{"template":{"metadata":{"labels":{"token-injector.dev/inject":"true"}},"spec":{"containers":"many"}}}}""", "request.object.spec.template is not a pod template: ")]
    [InlineData("half a surrogate pair", "Deployment", """{"metadata":{"name":"web"},"spec":{"template":{"metadata":{"labels":{"token-injector.dev/inject":"true"},"annotations":{"note":"LONE-SURROGATE"}},"spec":{"containers":[]}}}}""", "request.object.spec.template is not a pod template: ")]
    [InlineData("null port", "DaemonSet", """{"metadata":{"name":"web"},"spec":{"template":{"metadata":{"labels":{"token-injector.dev/inject":"true"},"annotations":{"token-injector.dev/audiences":"x"}},"spec":{"containers":[{"name":"app","ports":[null]}]}}}}""", "request.object.spec.template is not a pod template: container app has a null port")]
    public async Task Validate_MalformedWorkload_Answers400NamingTheField_AndKeepsServing(string name, string kind, string? workload, string reason)
    {
        using var content = RunningWebhook.ReviewContent(new JsonObject(), name, "apps", "CREATE", kind);
        var review = JsonNode.Parse(await content.ReadAsStringAsync(Timeout))!;
        review["request"]!.AsObject().Remove("object");
        if (workload is not null)
        {
            review["request"]!["object"] = JsonNode.Parse(workload);
        }

        using var client = _webhook.NewClient();
        var body = review.ToJsonString().Replace("LONE-SURROGATE", "\\uD800", StringComparison.Ordinal); // Escaped, as JsonNode would not write it.
        using var response = await client.PostAsync("/validate", new StringContent(body, Encoding.UTF8, "application/json"), Timeout);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.StartsWith("bad admission request: " + reason, await response.Content.ReadAsStringAsync(Timeout), StringComparison.Ordinal);
        var after = await ValidateAsync(Workloads.Wrap("Deployment", RunningWebhook.GoldenInput("route-on-app-port")), "Deployment", "CREATE");
        Assert.False(after["allowed"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Validate_MalformedBody_Answers400LikeMutate()
    {
        using var client = _webhook.NewClient();

        using var response = await client.PostAsync("/validate", new StringContent("""{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}""", Encoding.UTF8, "application/json"), Timeout);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("bad admission request: the body is not an AdmissionReview with a request\n", await response.Content.ReadAsStringAsync(Timeout));
    }

    [Fact]
    public async Task Validate_Outcomes_AreCountedApartFromPods()
    {
        _api.PutServiceAccount("apps", "echo-client", []);
        await ValidateAsync(Workloads.Wrap("Deployment", RunningWebhook.GoldenInput("route-on-app-port")), "Deployment", "CREATE");
        await ValidateAsync(Workloads.Wrap("CronJob", RunningWebhook.GoldenInput("controller-generate-name")), "CronJob", "UPDATE");
        await ValidateAsync(Workloads.Wrap("Job", RunningWebhook.GoldenInput("job-pod")), "Job", "DELETE");
        using var client = _webhook.NewClient();

        var metrics = await client.GetStringAsync("/metrics", Timeout);

        Assert.Contains("token_injector_webhook_admissions_total{result=\"template_denied\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("token_injector_webhook_admissions_total{result=\"template_allowed\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("token_injector_webhook_admissions_total{result=\"skipped\"} 1", metrics, StringComparison.Ordinal);
        Assert.DoesNotContain("result=\"denied\"", metrics, StringComparison.Ordinal);
        Assert.Contains("token_injector_webhook_admission_duration_seconds_count 3", metrics, StringComparison.Ordinal);
    }

    private Task<JsonNode> ValidateAsync(JsonNode workload, string kind, string operation, string @namespace = "apps", string uid = "c0ffee00-0000-4000-8000-000000000002") =>
        _webhook.ReviewAsync(workload, Timeout, uid: uid, @namespace: @namespace, operation: operation, kind: kind, path: "/validate");

    private async Task<JsonNode> PostAsync(string review)
    {
        using var client = _webhook.NewClient();
        using var response = await client.PostAsync("/validate", new StringContent(review, Encoding.UTF8, "application/json"), Timeout);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync(Timeout))!["response"]!;
    }

    // A validating webhook's answer must carry no patch: the API server refuses one.
    private static void AssertNoPatch(JsonNode answer)
    {
        Assert.Null(answer["patch"]);
        Assert.Null(answer["patchType"]);
    }
}
