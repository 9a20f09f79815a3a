using System.Text.Json;
using System.Text.Json.Nodes;
using TokenInjector.Tests.Support;
using TokenInjector.Webhook;

namespace TokenInjector.Tests.Webhook;

/// <summary>
/// Golden fixtures: each <c>Golden/NAME.input.json</c> pod goes through the webhook's decision, its JSON patch is
/// applied to the input with an independent applier, and the result must equal <c>Golden/NAME.expected.json</c>.
/// Pods the webhook denies have <c>Golden/NAME.denial.txt</c> instead, the message in full. To refresh the expected
/// files after a deliberate change, run with <c>TOKEN_INJECTOR_UPDATE_GOLDEN=1</c> and review the diff.
/// </summary>
public sealed class PodMutatorGoldenTests
{
    /// <summary>The webhook's own defaults (those of its flags, which the chart's values repeat), with an image and scrape annotations.</summary>
    internal static readonly SidecarDefaults Defaults = FromFlags("--sidecar-image=ghcr.io/token-injector/injector:1.0.0", "--prometheus-scrape");

    /// <summary>The sidecar's defaults as <c>injector webhook</c> reads them from <paramref name="flags"/>: every other one its flag's default.</summary>
    internal static SidecarDefaults FromFlags(params string[] flags)
    {
        var options = WebhookSettings.Command.Parse(flags, _ => null);
        var defaults = SidecarDefaults.From(options);
        Assert.Empty(options.Errors);
        return defaults;
    }

    /// <summary>Pods the webhook admits: every NAME.input.json with a NAME.expected.json, the input with the patch applied.</summary>
    public static TheoryData<string> Cases() => [.. GoldenFixtures.With(GoldenFixtures.ExpectedSuffix)];

    /// <summary>Pods the webhook denies: every NAME.input.json with a NAME.denial.txt, the whole message.</summary>
    public static TheoryData<string> Denials() => [.. GoldenFixtures.With(GoldenFixtures.DenialSuffix)];

    [Fact]
    public void EveryFixture_HasItsInputAndExactlyOneExpectedOutput()
    {
        var files = Directory.GetFiles(GoldenFixtures.Directory).Select(Path.GetFileName).ToList();
        var inputs = files.Where(f => f!.EndsWith(GoldenFixtures.InputSuffix, StringComparison.Ordinal)).Select(f => f![..^GoldenFixtures.InputSuffix.Length]).ToHashSet();
        var problems = new List<string>();
        foreach (var input in inputs)
        {
            var outputs = new[] { GoldenFixtures.ExpectedSuffix, GoldenFixtures.DenialSuffix }.Count(suffix => files.Contains(input + suffix));
            if (outputs != 1)
            {
                problems.Add($"{input}{GoldenFixtures.InputSuffix} has {outputs} expected outputs ({GoldenFixtures.ExpectedSuffix} or {GoldenFixtures.DenialSuffix}); it needs exactly one");
            }
        }

        problems.AddRange(files
            .Where(f => !f!.EndsWith(GoldenFixtures.InputSuffix, StringComparison.Ordinal)
                && !new[] { GoldenFixtures.ExpectedSuffix, GoldenFixtures.DenialSuffix }.Any(suffix => f.EndsWith(suffix, StringComparison.Ordinal) && inputs.Contains(f[..^suffix.Length])))
            .Select(f => $"{f} is not NAME{GoldenFixtures.InputSuffix}, nor the expected output of one"));
        Assert.True(problems.Count == 0, string.Join("\n", problems));
        Assert.NotEmpty(Cases());
        Assert.NotEmpty(Denials());
    }

    // Besides additions, the patch may change these, on purpose: the mesh's own capture exclusions get ours added.
    private static readonly Dictionary<string, string[]> DeliberateRewrites = new()
    {
        ["istio-cni"] = ["/metadata/annotations/traffic.sidecar.istio.io~1excludeInboundPorts"],
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Patch_AppliedToInput_GivesExpectedPod(string name)
    {
        var input = Read(name + ".input.json");
        var decision = PodAdmission.Decide(JsonSerializer.Deserialize<JsonElement>(input.ToJsonString()), Defaults);
        Assert.True(decision.Outcome != AdmissionOutcome.Denied, decision.Message);

        var patched = decision.Patch is null ? input : JsonPatchApplier.Apply(input, decision.Patch);
        if (Update(name + ".expected.json", patched.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n"))
        {
            return;
        }

        var expected = Read(name + ".expected.json");
        Assert.True(
            JsonNode.DeepEquals(expected, patched),
            $"{name}: patched pod differs from the expected one.\nexpected: {expected.ToJsonString()}\nactual:   {patched.ToJsonString()}");
    }

    [Theory]
    [MemberData(nameof(Denials))]
    public void Denial_IsTheExpectedMessage(string name)
    {
        var decision = PodAdmission.Decide(JsonSerializer.Deserialize<JsonElement>(Read(name + ".input.json").ToJsonString()), Defaults);

        Assert.Equal(AdmissionOutcome.Denied, decision.Outcome);
        Assert.Null(decision.Patch);
        if (!Update(name + ".denial.txt", decision.Message + "\n"))
        {
            Assert.Equal(GoldenFixtures.Text(name + GoldenFixtures.DenialSuffix).TrimEnd('\n'), decision.Message);
        }
    }

    [Fact]
    public void AlreadyInjected_IsTheMutatedControllerPod_AndYieldsNoPatch()
    {
        // The fixture must really be a pod this webhook produced, or the idempotency case proves nothing.
        Assert.True(JsonNode.DeepEquals(Read("controller-generate-name.expected.json"), Read("already-injected.input.json")));
        var decision = PodAdmission.Decide(JsonSerializer.Deserialize<JsonElement>(Read("already-injected.input.json").ToJsonString()), Defaults);
        Assert.Equal(AdmissionOutcome.Skipped, decision.Outcome);
        Assert.Null(decision.Patch);
    }

    [Fact]
    public void IstioOursFirstReinvoked_IsTheFirstPassAsIstioLeavesIt()
    {
        // Istio (pkg/kube/inject) moved its containers in front and rewrote the sidecar's probes to its agent, keeping
        // the originals in istio-proxy's ISTIO_KUBE_APP_PROBERS: with those put back, the sidecar is the first pass's.
        var first = Read("istio-ours-first.expected.json")["spec"]!["initContainers"]!.AsArray();
        var reinvoked = Read("istio-ours-first-reinvoked.input.json")["spec"]!["initContainers"]!.AsArray();
        var probers = JsonNode.Parse(reinvoked.Single(c => (string?)c!["name"] == "istio-proxy")!["env"]!.AsArray()
            .Single(e => (string?)e!["name"] == "ISTIO_KUBE_APP_PROBERS")!["value"]!.GetValue<string>())!;
        var sidecar = reinvoked.Single(c => (string?)c!["name"] == PodMutator.SidecarName)!.DeepClone();
        foreach (var (field, kind) in new[] { ("startupProbe", "startupz"), ("livenessProbe", "livez") })
        {
            Assert.Equal($"/app-health/{PodMutator.SidecarName}/{kind}", (string?)sidecar[field]!["httpGet"]!["path"]);
            sidecar[field]!["httpGet"] = probers[$"/app-health/{PodMutator.SidecarName}/{kind}"]!["httpGet"]!.DeepClone();
        }

        Assert.Equal(["istio-init", "istio-proxy", PodMutator.SidecarName, "seed-cache"], reinvoked.Select(c => (string?)c!["name"]));
        Assert.True(JsonNode.DeepEquals(first.Single(c => (string?)c!["name"] == PodMutator.SidecarName), sidecar), sidecar.ToJsonString());
        Assert.True(JsonNode.DeepEquals(first.Single(c => (string?)c!["name"] == "seed-cache"), reinvoked.Single(c => (string?)c!["name"] == "seed-cache")));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Patch_TouchesOnlyWhatTheWebhookAdds(string name)
    {
        var input = Read(name + ".input.json");
        var decision = PodAdmission.Decide(JsonSerializer.Deserialize<JsonElement>(input.ToJsonString()), Defaults);
        foreach (var operation in decision.Patch ?? [])
        {
            // Adding is all injection (and restoring) does; a replace or remove would mean the diff rewrote something
            // of the app's, unless the case says why.
            var path = operation!["path"]!.GetValue<string>();
            Assert.True(
                operation["op"]!.GetValue<string>() == "add" || DeliberateRewrites.GetValueOrDefault(name, []).Contains(path),
                $"{name}: {operation.ToJsonString()}");
        }
    }

    private static bool Update(string file, string content)
    {
        if (Environment.GetEnvironmentVariable("TOKEN_INJECTOR_UPDATE_GOLDEN") != "1")
        {
            return false;
        }

        File.WriteAllText(GoldenFixtures.PathOf(file), content);
        return true;
    }

    private static JsonNode Read(string file) => GoldenFixtures.Json(file);
}
