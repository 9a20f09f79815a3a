using System.Text.Json;
using System.Text.Json.Nodes;
using TokenInjector.Tests.Support;
using TokenInjector.Webhook;

namespace TokenInjector.Tests.Webhook;

/// <summary>
/// The webhook called again (reinvocationPolicy IfNeeded) after other webhooks changed a pod it injected: an intact
/// sidecar yields no patch, a broken one is restored and the user told what was, and what cannot be undone is denied.
/// The golden fixtures hold whole pods (Istio after us, a sidecar stripped by an old-model webhook); these hold the rest.
/// </summary>
public sealed class ReinvocationTests
{
    [Fact]
    public void Decide_SidecarStripped_RestoresItAndSaysWhatInAWarningAndTheLogMessage()
    {
        var decision = Decide(Golden("sidecar-stripped-by-another-webhook.input.json"));

        Assert.Equal(AdmissionOutcome.Mutated, decision.Outcome);
        var warning = Assert.Single(decision.Warnings, w => w.StartsWith("after other webhooks changed the pod, token-injector restored: ", StringComparison.Ordinal));
        foreach (var fragment in new[] { "restartPolicy of token-injector", "startupProbe of token-injector", "securityContext of token-injector", "volume mount /var/run/token-injector of client" })
        {
            Assert.Contains(fragment, warning, StringComparison.Ordinal);
            Assert.Contains(fragment, decision.Message!, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Decide_InitContainerPutBeforeTheSidecarByAnotherWebhook_MovesTheSidecarBackInFront()
    {
        var pod = Golden("init-containers.expected.json");
        pod["spec"]!["initContainers"]!.AsArray().Insert(0, JsonNode.Parse("""{"name":"vault-agent-init","image":"vault:1.17"}"""));

        var decision = Decide(pod);
        var patched = JsonPatchApplier.Apply(pod, decision.Patch!);

        Assert.Equal(["token-injector", "vault-agent-init", "migrate", "wait-for-db"], patched["spec"]!["initContainers"]!.AsArray().Select(c => (string?)c!["name"]));
        Assert.Contains("the place of token-injector as the first init container", decision.Message, StringComparison.Ordinal);
        // The move is one add and one remove of the sidecar; the other init containers are not rewritten.
        Assert.Equal([("add", "/spec/initContainers/0"), ("remove", "/spec/initContainers/2")], decision.Patch!.Select(o => ((string)o!["op"]!, (string)o["path"]!)));
    }

    [Fact]
    public void Decide_MeshProxyPutAfterTheSidecar_MovesTheSidecarBehindIt_WithoutRewritingTheProxy()
    {
        var pod = Golden("init-containers.expected.json");
        pod["spec"]!["initContainers"]!.AsArray().Insert(1, JsonNode.Parse("""{"name":"linkerd-proxy","image":"proxy","restartPolicy":"Always"}"""));

        var decision = Decide(pod);
        var patched = JsonPatchApplier.Apply(pod, decision.Patch!);

        Assert.Equal(["linkerd-proxy", "token-injector", "migrate", "wait-for-db"], patched["spec"]!["initContainers"]!.AsArray().Select(c => (string?)c!["name"]));
        Assert.Equal([("remove", "/spec/initContainers/0"), ("add", "/spec/initContainers/1")], decision.Patch!.Select(o => ((string)o!["op"]!, (string)o["path"]!)));
    }

    [Fact]
    public void Decide_SidecarImageAndResourcesRewrittenByAMirrorOrAutopilot_AreKept_NoPatch()
    {
        var pod = Golden("controller-generate-name.expected.json");
        var sidecar = pod["spec"]!["initContainers"]![0]!;
        sidecar["image"] = "mirror.example.com/token-injector/injector:1.0.0";
        sidecar["resources"] = JsonNode.Parse("""{"requests":{"cpu":"50m","memory":"52Mi","ephemeral-storage":"1Gi"},"limits":{"cpu":"50m","memory":"52Mi","ephemeral-storage":"1Gi"}}""");

        var decision = Decide(pod);

        Assert.Equal(AdmissionOutcome.Skipped, decision.Outcome);
        Assert.Null(decision.Patch);
    }

    /// <summary>Changes by another webhook that cannot be undone without undoing its work: each is denied naming it and the way out.</summary>
    public static TheoryData<string, string[]> BrokenBeyondRepair() => new()
    {
        { "sidecar moved to containers", ["the token-injector container is in spec.containers, but token-injector.dev/native-sidecar is \"true\"", "another webhook moved it", "set token-injector.dev/native-sidecar to match"] },
        { "second sidecar added", ["the pod has 2 containers named token-injector", "remove it, token-injector adds its own"] },
        { "another volume over the socket directory", ["container client already mounts /var/run/token-injector", "mount that volume at another path"] },
    };

    [Theory]
    [MemberData(nameof(BrokenBeyondRepair))]
    public void Decide_SidecarBrokenBeyondRepair_DeniesNamingTheChangeAndTheWayOut(string change, string[] expectedFragments)
    {
        var pod = Golden("controller-generate-name.expected.json");
        var spec = pod["spec"]!;
        switch (change)
        {
            case "sidecar moved to containers":
                var sidecar = spec["initContainers"]![0]!.DeepClone();
                spec["initContainers"]!.AsArray().Clear();
                spec["containers"]!.AsArray().Add(sidecar);
                break;
            case "second sidecar added":
                spec["containers"]!.AsArray().Add(JsonNode.Parse("""{"name":"token-injector","image":"other"}"""));
                break;
            default:
                spec["containers"]![0]!["volumeMounts"]![0]!["name"] = "scratch";
                break;
        }

        var decision = Decide(pod);

        Assert.Equal(AdmissionOutcome.Denied, decision.Outcome);
        foreach (var fragment in expectedFragments)
        {
            Assert.True(decision.Message!.Contains(fragment, StringComparison.Ordinal), $"{change}: '{fragment}' not in: {decision.Message}");
        }
    }

    [Fact]
    public void Decide_AppContainerAddedByAnotherWebhook_GetsTheSocketAndEnvToo()
    {
        var pod = Golden("controller-generate-name.expected.json");
        pod["spec"]!["containers"]!.AsArray().Add(JsonNode.Parse("""{"name":"log-shipper","image":"fluent-bit:3"}"""));

        var patched = JsonPatchApplier.Apply(pod, Decide(pod).Patch!);

        var shipper = patched["spec"]!["containers"]![1]!;
        Assert.Equal("/var/run/token-injector", (string?)shipper["volumeMounts"]![0]!["mountPath"]);
        Assert.Equal("TOKEN_INJECTOR_SOCKET", (string?)shipper["env"]![0]!["name"]);
    }

    [Fact]
    public void Decide_IstioCaptureSetUpByIstioInitWithoutTheAdminPort_WarnsAboutStrictMtls()
    {
        var decision = Decide(Golden("istio-theirs-first.input.json"));

        Assert.Equal(AdmissionOutcome.Mutated, decision.Outcome);
        Assert.Contains(decision.Warnings, w => w.Contains("traffic.sidecar.istio.io/excludeInboundPorts: \"9464\"", StringComparison.Ordinal) && w.Contains("STRICT", StringComparison.Ordinal));
    }

    [Fact]
    public void Decide_IstioRewroteTheProbes_NoWarningAndNoPatch()
    {
        var decision = Decide(Golden("istio-ours-first-reinvoked.input.json"));

        Assert.Equal(AdmissionOutcome.Skipped, decision.Outcome);
        Assert.Equal("already injected, sidecar intact", decision.Message);
    }

    [Fact]
    public void Decide_HostNetworkAllowedByTheOperator_InjectsWithAWarning()
    {
        var decision = PodAdmission.Decide(
            JsonSerializer.Deserialize<JsonElement>(Golden("host-network.input.json").ToJsonString()),
            PodMutatorGoldenTests.Defaults with { AllowHostNetwork = true });

        Assert.Equal(AdmissionOutcome.Mutated, decision.Outcome);
        Assert.Contains(decision.Warnings, w => w.Contains("spec.hostNetwork is true and the webhook's operator allows it", StringComparison.Ordinal) && w.Contains("9464, 8080", StringComparison.Ordinal));
    }

    private static AdmissionDecision Decide(JsonNode pod) =>
        PodAdmission.Decide(JsonSerializer.Deserialize<JsonElement>(pod.ToJsonString()), PodMutatorGoldenTests.Defaults);

    private static JsonNode Golden(string file) =>
        GoldenFixtures.Json(file);
}
