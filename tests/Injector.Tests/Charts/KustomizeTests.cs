using System.Text.Json;
using System.Text.Json.Nodes;
using TokenInjector.Configuration;
using TokenInjector.Tests.Support;
using TokenInjector.Tests.Webhook;
using TokenInjector.Webhook;

namespace TokenInjector.Tests.Charts;

/// <summary>
/// The plain manifests render with <c>kubectl kustomize</c> (offline; kubectl must be on the PATH), and what they
/// render is what the webhook and Cloud Run expect.
/// </summary>
public sealed class KustomizeTests
{
    [Fact]
    public async Task SampleWorkload_RendersAndAsksForInjectionTheWebhookAccepts()
    {
        var documents = await RenderAsync("sample-workload");

        var account = Single(documents, "ServiceAccount");
        Assert.EndsWith(".iam.gserviceaccount.com", account["metadata"]!["annotations"]!["iam.gke.io/gcp-service-account"]!.GetValue<string>(), StringComparison.Ordinal);
        var deployment = Single(documents, "Deployment");
        var template = deployment["spec"]!["template"]!;
        Assert.Equal("true", template["metadata"]!["labels"]!["token-injector.dev/inject"]!.GetValue<string>());
        Assert.Equal(account["metadata"]!["name"]!.GetValue<string>(), template["spec"]!["serviceAccountName"]!.GetValue<string>());
        var routes = template["metadata"]!["annotations"]!["token-injector.dev/routes"]!.GetValue<string>();
        Assert.True(RouteSpec.TryParse(routes, out var route, out _));
        Assert.EndsWith(".a.run.app", route!.Host, StringComparison.Ordinal);

        // The pod this Deployment creates is one the webhook injects.
        var pod = new JsonObject { ["apiVersion"] = "v1", ["kind"] = "Pod", ["metadata"] = template["metadata"]!.DeepClone(), ["spec"] = template["spec"]!.DeepClone() };
        var decision = PodAdmission.Decide(JsonSerializer.Deserialize<JsonElement>(pod.ToJsonString()), PodMutatorGoldenTests.FromFlags("--sidecar-image=injector:test"));
        Assert.Equal(AdmissionOutcome.Mutated, decision.Outcome);
    }

    [Fact]
    public async Task CloudRunService_RendersWithHttp2EndToEnd()
    {
        var documents = await RenderAsync("cloud-run");

        var service = Single(documents, "Service");
        Assert.Equal("serving.knative.dev/v1", service["apiVersion"]!.GetValue<string>());
        Assert.Equal("internal", service["metadata"]!["annotations"]!["run.googleapis.com/ingress"]!.GetValue<string>());
        var container = service["spec"]!["template"]!["spec"]!["containers"]![0]!;
        Assert.Equal("h2c", container["ports"]![0]!["name"]!.GetValue<string>());
        Assert.Contains("docker.pkg.dev", container["image"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public void EveryKustomizationIsCoveredHere()
    {
        var directories = Directory.GetFiles(RepositoryFiles.PathOf("k8s"), "kustomization.yaml", SearchOption.AllDirectories)
            .Select(f => Path.GetFileName(Path.GetDirectoryName(f)!))
            .Order(StringComparer.Ordinal);

        Assert.Equal(["cloud-run", "sample-workload"], directories);
    }

    private static JsonNode Single(IEnumerable<JsonNode?> documents, string kind) =>
        Assert.Single(documents, d => d?["kind"]?.GetValue<string>() == kind)!;

    private static async Task<IReadOnlyList<JsonNode?>> RenderAsync(string directory)
    {
        var (exitCode, output, errors) = await ChildProcess.RunAsync("kubectl", ["kustomize", RepositoryFiles.PathOf("k8s", directory)]);

        Assert.True(exitCode == 0, $"kubectl kustomize k8s/{directory} failed: {errors}");
        return YamlJson.ParseAll(output).ToList();
    }
}
