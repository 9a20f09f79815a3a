using System.Text.Json;
using System.Text.Json.Nodes;
using TokenInjector.Webhook;

namespace TokenInjector.Tests.Webhook;

public sealed class InjectionAnnotationsTests
{
    /// <summary>Bad annotations: the denial must name the annotation, quote the bad value and say what is expected.</summary>
    public static TheoryData<string, Dictionary<string, string>, string[]> Denials() => new()
    {
        { "route without https", new() { ["token-injector.dev/routes"] = "8080=http://svc.a.run.app" }, ["token-injector.dev/routes", "'8080=http://svc.a.run.app'", "PORT=https://HOST[:PORT][=AUDIENCE]"] },
        { "route port out of range", new() { ["token-injector.dev/routes"] = "70000=https://svc.a.run.app" }, ["token-injector.dev/routes", "'70000=https://svc.a.run.app'", "expected"] },
        { "route port twice", new() { ["token-injector.dev/routes"] = "8080=https://a.a.run.app,8080=https://b.a.run.app" }, ["token-injector.dev/routes", "'8080=https://b.a.run.app'", "own port"] },
        { "audience with a space", new() { ["token-injector.dev/audiences"] = "https://a b" }, ["token-injector.dev/audiences", "'https://a b'", "expected a comma-separated list of audiences"] },
        { "neither audience nor route", new() { ["token-injector.dev/containers"] = "app" }, ["token-injector.dev/audiences", "token-injector.dev/routes", "expected"] },
        { "unknown container", new() { ["token-injector.dev/audiences"] = "x", ["token-injector.dev/containers"] = "app,nope" }, ["token-injector.dev/containers", "'app,nope'", "nope", "expected a comma-separated list of the pod's containers: app"] },
        { "native-sidecar not boolean", new() { ["token-injector.dev/audiences"] = "x", ["token-injector.dev/native-sidecar"] = "maybe" }, ["token-injector.dev/native-sidecar", "'maybe'", "expected \"true\""] },
        { "cpu request not a quantity", new() { ["token-injector.dev/audiences"] = "x", ["token-injector.dev/cpu-request"] = "lots" }, ["token-injector.dev/cpu-request", "'lots'", "expected a non-negative Kubernetes quantity"] },
        { "memory limit negative", new() { ["token-injector.dev/audiences"] = "x", ["token-injector.dev/memory-limit"] = "-64Mi" }, ["token-injector.dev/memory-limit", "'-64Mi'", "expected"] },
        { "memory request above limit", new() { ["token-injector.dev/audiences"] = "x", ["token-injector.dev/memory-request"] = "1Gi", ["token-injector.dev/memory-limit"] = "64Mi" }, ["token-injector.dev/memory-request", "'1Gi'", "expected"] },
        { "token dir relative", new() { ["token-injector.dev/audiences"] = "x", ["token-injector.dev/token-dir"] = "tokens" }, ["token-injector.dev/token-dir", "'tokens'", "absolute"] },
        { "token dir with dot-dot", new() { ["token-injector.dev/audiences"] = "x", ["token-injector.dev/token-dir"] = "/tmp/../etc" }, ["token-injector.dev/token-dir", "'/tmp/../etc'", "expected an absolute directory path"] },
        { "token dir root", new() { ["token-injector.dev/audiences"] = "x", ["token-injector.dev/token-dir"] = "/" }, ["token-injector.dev/token-dir", "'/'", "expected"] },
        { "token dir etc", new() { ["token-injector.dev/audiences"] = "x", ["token-injector.dev/token-dir"] = "/etc/" }, ["token-injector.dev/token-dir", "'/etc/'", "expected"] },
        { "token dir usr", new() { ["token-injector.dev/audiences"] = "x", ["token-injector.dev/token-dir"] = "/usr" }, ["token-injector.dev/token-dir", "'/usr'"] },
        { "token dir var", new() { ["token-injector.dev/audiences"] = "x", ["token-injector.dev/token-dir"] = "/var" }, ["token-injector.dev/token-dir", "'/var'"] },
        { "token dir proc", new() { ["token-injector.dev/audiences"] = "x", ["token-injector.dev/token-dir"] = "/proc" }, ["token-injector.dev/token-dir", "'/proc'"] },
        { "token dir dev", new() { ["token-injector.dev/audiences"] = "x", ["token-injector.dev/token-dir"] = "/dev" }, ["token-injector.dev/token-dir", "'/dev'"] },
        { "token dir sys", new() { ["token-injector.dev/audiences"] = "x", ["token-injector.dev/token-dir"] = "/sys" }, ["token-injector.dev/token-dir", "'/sys'"] },
        { "token dir over an app mount", new() { ["token-injector.dev/audiences"] = "x", ["token-injector.dev/token-dir"] = "/data" }, ["token-injector.dev/token-dir", "'/data'", "/data", "volume mount"] },
        { "token dir inside an app mount", new() { ["token-injector.dev/audiences"] = "x", ["token-injector.dev/token-dir"] = "/data/tokens" }, ["token-injector.dev/token-dir", "'/data/tokens'", "volume mount"] },
        { "token dir over the socket dir", new() { ["token-injector.dev/audiences"] = "x", ["token-injector.dev/token-dir"] = "/var/run/token-injector/tokens" }, ["token-injector.dev/token-dir", "socket directory"] },
        { "unknown annotation", new() { ["token-injector.dev/audiences"] = "x", ["token-injector.dev/route"] = "8080=https://a.a.run.app" }, ["token-injector.dev/route", "not known", "token-injector.dev/routes"] },
    };

    [Theory]
    [MemberData(nameof(Denials))]
    public void Decide_BadAnnotation_DeniesNamingAnnotationValueAndForm(string name, Dictionary<string, string> annotations, string[] expectedFragments)
    {
        var decision = PodAdmission.Decide(Pod(annotations), PodMutatorGoldenTests.Defaults);

        Assert.Equal(AdmissionOutcome.Denied, decision.Outcome);
        Assert.Null(decision.Patch);
        foreach (var fragment in expectedFragments)
        {
            Assert.True(decision.Message!.Contains(fragment, StringComparison.Ordinal), $"{name}: '{fragment}' not in: {decision.Message}");
        }
    }

    [Fact]
    public void Decide_SeveralBadAnnotations_ReportsThemAll()
    {
        var decision = PodAdmission.Decide(
            Pod(new() { ["token-injector.dev/routes"] = "nope", ["token-injector.dev/cpu-request"] = "x", ["token-injector.dev/native-sidecar"] = "2" }),
            PodMutatorGoldenTests.Defaults);

        Assert.Equal(AdmissionOutcome.Denied, decision.Outcome);
        Assert.Contains("token-injector.dev/routes", decision.Message, StringComparison.Ordinal);
        Assert.Contains("token-injector.dev/cpu-request", decision.Message, StringComparison.Ordinal);
        Assert.Contains("token-injector.dev/native-sidecar", decision.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decide_VolumeNameClash_Denies()
    {
        var pod = JsonNode.Parse(Pod(new() { ["token-injector.dev/audiences"] = "x" }).GetRawText())!;
        pod["spec"]!["volumes"] = JsonNode.Parse("""[{"name":"token-injector-socket","emptyDir":{}}]""");

        var decision = PodAdmission.Decide(JsonSerializer.Deserialize<JsonElement>(pod.ToJsonString()), PodMutatorGoldenTests.Defaults);

        Assert.Equal(AdmissionOutcome.Denied, decision.Outcome);
        Assert.Contains("token-injector-socket", decision.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decide_GoodAnnotationsWithOddSpacing_Mutates()
    {
        var decision = PodAdmission.Decide(
            Pod(new() { ["token-injector.dev/routes"] = " 8080=https://a.a.run.app ,\n 8081=https://b.a.run.app:8443=custom ", ["token-injector.dev/native-sidecar"] = "TRUE" }),
            PodMutatorGoldenTests.Defaults);

        Assert.Equal(AdmissionOutcome.Mutated, decision.Outcome);
    }

    internal static JsonElement Pod(Dictionary<string, string> annotations)
    {
        var pod = new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Pod",
            ["metadata"] = new JsonObject
            {
                ["generateName"] = "app-",
                ["labels"] = new JsonObject { ["token-injector.dev/inject"] = "true" },
                ["annotations"] = JsonSerializer.SerializeToNode(annotations),
            },
            ["spec"] = JsonNode.Parse("""{"containers":[{"name":"app","image":"app:1","volumeMounts":[{"name":"data","mountPath":"/data/"}]}],"volumes":[{"name":"data","emptyDir":{}}]}"""),
        };
        return JsonSerializer.Deserialize<JsonElement>(pod.ToJsonString());
    }
}
