using System.Text.Json;
using TokenInjector.Tests.Support;
using TokenInjector.Webhook;

namespace TokenInjector.Tests.Webhook;

/// <summary>
/// Which admission requests the webhook acts on, decided by the pure <see cref="PodAdmission"/> (the HTTP handler only
/// reads and writes the envelope; <see cref="WebhookServerTests"/> checks the same rules over HTTPS).
/// </summary>
public sealed class PodAdmissionTests
{
    private const string OwnNamespace = "token-injector";

    public static TheoryData<string, string, string, string, string> Skipped() => new()
    {
        { "own namespace", OwnNamespace, "CREATE", "Pod", "namespace token-injector is never injected" },
        { "kube-system", "kube-system", "CREATE", "Pod", "namespace kube-system is never injected" },
        { "update", "apps", "UPDATE", "Pod", "operation UPDATE (only CREATE is handled)" },
        { "delete", "apps", "DELETE", "Pod", "operation DELETE (only CREATE is handled)" },
        { "not a pod", "apps", "CREATE", "Deployment", "not a Pod (Deployment)" },
    };

    [Theory]
    [MemberData(nameof(Skipped))]
    public void Decide_RequestItMustNotTouch_IsSkippedWithTheReason(string name, string @namespace, string operation, string kind, string reason)
    {
        var decision = PodAdmission.Decide(Request(@namespace, operation, kind), OwnNamespace, PodMutatorGoldenTests.Defaults);

        Assert.True(decision.Outcome == AdmissionOutcome.Skipped, name);
        Assert.Equal(reason, decision.Message);
        Assert.Null(decision.Patch);
    }

    [Fact]
    public void Decide_PodCreatedInAnotherNamespace_IsMutated()
    {
        var decision = PodAdmission.Decide(Request("apps", "CREATE", "Pod"), OwnNamespace, PodMutatorGoldenTests.Defaults);

        Assert.Equal(AdmissionOutcome.Mutated, decision.Outcome);
        Assert.NotEmpty(decision.Patch!);
    }

    [Fact]
    public void Decide_OwnNamespaceUnknown_OnlyKubeSystemIsSkipped()
    {
        Assert.Equal(AdmissionOutcome.Mutated, PodAdmission.Decide(Request(OwnNamespace, "CREATE", "Pod"), null, PodMutatorGoldenTests.Defaults).Outcome);
        Assert.Equal(AdmissionOutcome.Skipped, PodAdmission.Decide(Request("kube-system", "CREATE", "Pod"), null, PodMutatorGoldenTests.Defaults).Outcome);
    }

    [Fact]
    public void Decide_PodCreateWithoutObject_IsAnInvalidReview()
    {
        var request = Request("apps", "CREATE", "Pod") with { Object = null };

        var error = Assert.Throws<InvalidAdmissionReviewException>(() => PodAdmission.Decide(request, OwnNamespace, PodMutatorGoldenTests.Defaults));
        Assert.Contains("request.object", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decide_PodWithANullPort_IsAnInvalidReview()
    {
        // The port check reads every container's ports: a null there is no pod the API server sends, and must be a 400, not a 500.
        var pod = InjectionAnnotationsTests.Pod(new() { ["token-injector.dev/audiences"] = "x" }, """{"containers":[{"name":"app","image":"app:1","ports":[null]}]}""");

        var error = Assert.Throws<InvalidAdmissionReviewException>(() => PodAdmission.Decide(pod, PodMutatorGoldenTests.Defaults));
        Assert.Equal("request.object is not a Pod: container app has a null port", error.Message);
    }

    [Theory]
    [InlineData("container app resources memory", """{"containers":[{"name":"app","image":"app:1","resources":{"requests":{"memory":-1e17}}}]}""")]
    [InlineData("container app resources cpu", """{"containers":[{"name":"app","image":"app:1","resources":{"limits":{"cpu":"-1e-30"}}}]}""")]
    [InlineData("container app env LIMIT divisor", """{"containers":[{"name":"app","image":"app:1","env":[{"name":"LIMIT","valueFrom":{"resourceFieldRef":{"resource":"limits.memory","divisor":"-1e20"}}}]}]}""")]
    [InlineData("volume cache sizeLimit", """{"containers":[{"name":"app","image":"app:1"}],"volumes":[{"name":"cache","emptyDir":{"sizeLimit":-1e+308}}]}""")]
    [InlineData("volume info divisor", """{"containers":[{"name":"app","image":"app:1"}],"volumes":[{"name":"info","projected":{"sources":[{"downwardAPI":{"items":[{"path":"m","resourceFieldRef":{"resource":"limits.memory","divisor":"-5e18"}}]}}]}}]}""")]
    [InlineData("spec.overhead memory", """{"containers":[{"name":"app","image":"app:1"}],"overhead":{"memory":"-1e17"}}""")]
    public async Task Decide_NegativeQuantity_IsAnInvalidReview_InTime(string where, string spec)
    {
        // KubernetesClient formats some negative quantities forever: the body must be refused before the diff formats them.
        var pod = InjectionAnnotationsTests.Pod(new() { ["token-injector.dev/audiences"] = "x" }, spec);

        var error = await Assert.ThrowsAsync<InvalidAdmissionReviewException>(() => Task.Run(() => PodAdmission.Decide(pod, PodMutatorGoldenTests.Defaults)).WaitAsync(TestWait.Limit));
        Assert.Equal($"request.object is not a Pod: {where} is a negative quantity", error.Message);
    }

    [Fact]
    public async Task Decide_StatusWithANegativeQuantity_IsLeftOutOfTheDiff_InTime()
    {
        var pod = JsonSerializer.Deserialize<JsonElement>(
            """{"apiVersion":"v1","kind":"Pod","metadata":{"annotations":{"token-injector.dev/audiences":"x"}},"spec":{"containers":[{"name":"app","image":"app:1"}]},"status":{"allocatedResources":{"memory":"-1e17"}}}""");

        var decision = await Task.Run(() => PodAdmission.Decide(pod, PodMutatorGoldenTests.Defaults)).WaitAsync(TestWait.Limit);

        Assert.Equal(AdmissionOutcome.Mutated, decision.Outcome);
        Assert.DoesNotContain(decision.Patch!, operation => operation!["path"]!.GetValue<string>().StartsWith("/status", StringComparison.Ordinal));
    }

    [Fact]
    public void Decide_ProbePortNeitherNumberNorName_IsAnInvalidReview()
    {
        var pod = InjectionAnnotationsTests.Pod(new() { ["token-injector.dev/audiences"] = "x" }, """{"containers":[{"name":"app","image":"app:1","readinessProbe":{"httpGet":{"port":true}}}]}""");

        var error = Assert.Throws<InvalidAdmissionReviewException>(() => PodAdmission.Decide(pod, PodMutatorGoldenTests.Defaults));
        Assert.StartsWith("request.object is not a Pod: ", error.Message, StringComparison.Ordinal);
    }

    private static AdmissionRequest Request(string @namespace, string operation, string kind) => new()
    {
        Uid = "uid-1",
        Kind = new GroupVersionKind(kind == "Pod" ? string.Empty : "apps", "v1", kind),
        Operation = operation,
        Namespace = @namespace,
        Object = InjectionAnnotationsTests.Pod(new() { ["token-injector.dev/routes"] = "8080=https://svc-abc123-uc.a.run.app" }),
    };
}
