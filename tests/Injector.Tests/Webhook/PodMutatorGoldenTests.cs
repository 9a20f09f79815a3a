using System.Text.Json;
using System.Text.Json.Nodes;
using TokenInjector.Tests.Support;
using TokenInjector.Webhook;

namespace TokenInjector.Tests.Webhook;

/// <summary>
/// Golden fixtures: each <c>Golden/NAME.input.json</c> pod goes through the webhook's decision, its JSON patch is
/// applied to the input with an independent applier, and the result must equal <c>Golden/NAME.expected.json</c>.
/// To refresh the expected files after a deliberate change, run with <c>TOKEN_INJECTOR_UPDATE_GOLDEN=1</c> and
/// review the diff.
/// </summary>
public sealed class PodMutatorGoldenTests
{
    internal static readonly SidecarDefaults Defaults = new()
    {
        Image = "ghcr.io/token-injector/injector:1.0.0",
        PrometheusScrape = true,
    };

    public static TheoryData<string> Cases() =>
    [
        "controller-generate-name",
        "init-containers",
        "existing-volumes-env",
        "multi-container-selected",
        "job-pod",
        "already-injected",
        "classic-sidecar",
        "token-dir",
    ];

    [Theory]
    [MemberData(nameof(Cases))]
    public void Patch_AppliedToInput_GivesExpectedPod(string name)
    {
        var input = Read(name + ".input.json");
        var decision = PodAdmission.Decide(JsonSerializer.Deserialize<JsonElement>(input.ToJsonString()), Defaults);
        Assert.NotEqual(AdmissionOutcome.Denied, decision.Outcome);

        var patched = decision.Patch is null ? input : JsonPatchApplier.Apply(input, decision.Patch);
        var expectedPath = Path.Combine(AppContext.BaseDirectory, "Webhook", "Golden", name + ".expected.json");
        if (Environment.GetEnvironmentVariable("TOKEN_INJECTOR_UPDATE_GOLDEN") == "1")
        {
            var source = RepositoryFiles.PathOf("tests", "Injector.Tests", "Webhook", "Golden", name + ".expected.json");
            File.WriteAllText(source, patched.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
            return;
        }

        var expected = Read(name + ".expected.json");
        Assert.True(
            JsonNode.DeepEquals(expected, patched),
            $"{name}: patched pod differs from the expected one.\nexpected: {expected.ToJsonString()}\nactual:   {patched.ToJsonString()}");
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

    [Theory]
    [MemberData(nameof(Cases))]
    public void Patch_TouchesOnlyWhatTheWebhookAdds(string name)
    {
        var input = Read(name + ".input.json");
        var decision = PodAdmission.Decide(JsonSerializer.Deserialize<JsonElement>(input.ToJsonString()), Defaults);
        foreach (var operation in decision.Patch ?? [])
        {
            // Adding is all injection does; a replace or remove would mean the diff rewrote something of the app's.
            Assert.Equal("add", operation!["op"]!.GetValue<string>());
        }
    }

    private static JsonNode Read(string file) =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Webhook", "Golden", file)))!;
}
