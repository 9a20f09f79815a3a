using System.Text.Json;
using System.Text.Json.Nodes;
using TokenInjector.Webhook;

namespace TokenInjector.Tests.Webhook;

public sealed class InjectionAnnotationsTests
{
    /// <summary>Bad annotations: the denial must name the annotation, quote the bad value and say what is expected.</summary>
    public static TheoryData<string, Dictionary<string, string>, string[]> Denials() => new()
    {
        { "route without https", new() { ["token-injector.dev/routes"] = "8080=http://svc.a.run.app" }, ["token-injector.dev/routes", "'8080=http://svc.a.run.app'", "PORT=https://HOST[:PORT][;header=MODE][=AUDIENCE]"] },
        { "route header unknown", new() { ["token-injector.dev/routes"] = "8080=https://svc.a.run.app;header=cookie" }, ["token-injector.dev/routes", "'8080=https://svc.a.run.app;header=cookie' has header 'cookie', which is not one of authorization|x-serverless-authorization|proxy-authorization", "expected"] },
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
        { "egress port not a number", new() { ["token-injector.dev/egress"] = "http" }, ["token-injector.dev/egress", "'http'", "expected a number from 1 to 65535"] },
        { "egress port out of range", new() { ["token-injector.dev/egress"] = "0" }, ["token-injector.dev/egress", "'0'", "expected"] },
        { "egress port is a route's", new() { ["token-injector.dev/routes"] = "8080=https://a.a.run.app", ["token-injector.dev/egress"] = "8080" }, ["token-injector.dev/egress", "8080", "'8080=https://a.a.run.app'", "own port"] },
        { "egress host with a path", new() { ["token-injector.dev/egress"] = "8081", ["token-injector.dev/egress-hosts"] = "*.run.app,a.run.app/x" }, ["token-injector.dev/egress-hosts", "'a.run.app/x'", "PATTERN[;header=MODE][=AUDIENCE]"] },
        { "egress host unknown parameter", new() { ["token-injector.dev/egress"] = "8081", ["token-injector.dev/egress-hosts"] = "*.run.app;format=full" }, ["token-injector.dev/egress-hosts", "'*.run.app;format=full' has unknown parameter ';format='", "expected"] },
        { "egress host wildcard inside", new() { ["token-injector.dev/egress"] = "8081", ["token-injector.dev/egress-hosts"] = "a.*.run.app" }, ["token-injector.dev/egress-hosts", "'a.*.run.app'", "expected"] },
        { "egress host twice", new() { ["token-injector.dev/egress"] = "8081", ["token-injector.dev/egress-hosts"] = "a.run.app,A.run.app=https://x" }, ["token-injector.dev/egress-hosts", "'A.run.app=https://x'", "repeats"] },
        { "metadata not a port", new() { ["token-injector.dev/metadata"] = "yes" }, ["token-injector.dev/metadata", "'yes'", "expected \"true\" (port 8988) or a number from 1 to 65535"] },
        { "metadata port out of range", new() { ["token-injector.dev/metadata"] = "70000" }, ["token-injector.dev/metadata", "'70000'", "expected"] },
        { "metadata port is the egress port", new() { ["token-injector.dev/egress"] = "8988", ["token-injector.dev/metadata"] = "true" }, ["token-injector.dev/metadata", "8988", "the egress listener", "own port"] },
        { "egress hosts without egress", new() { ["token-injector.dev/audiences"] = "x", ["token-injector.dev/egress-hosts"] = "*.run.app" }, ["token-injector.dev/egress-hosts", "without token-injector.dev/egress", "expected"] },
        { "unknown annotation", new() { ["token-injector.dev/audiences"] = "x", ["token-injector.dev/route"] = "8080=https://a.a.run.app" }, ["token-injector.dev/route", "not known", "token-injector.dev/routes"] },
        { "admin port not a number", new() { ["token-injector.dev/audiences"] = "x", ["token-injector.dev/admin-port"] = "metrics" }, ["token-injector.dev/admin-port", "'metrics'", "expected a number from 1 to 65535"] },
        { "admin port out of range", new() { ["token-injector.dev/audiences"] = "x", ["token-injector.dev/admin-port"] = "65536" }, ["token-injector.dev/admin-port", "'65536'", "expected a number from 1 to 65535"] },
        { "admin port on a route's port", new() { ["token-injector.dev/routes"] = "9465=https://a.a.run.app", ["token-injector.dev/admin-port"] = "9465" }, ["token-injector.dev/routes", "'9465=https://a.a.run.app' uses port 9465, as the admin listener", "own port", "another local port in token-injector.dev/routes"] },
        { "init container unknown", new() { ["token-injector.dev/audiences"] = "x", ["token-injector.dev/init-containers"] = "migrate" }, ["token-injector.dev/init-containers", "'migrate'", "unknown init container(s) migrate", "no init container that runs after the sidecar"] },
    };

    /// <summary>Init containers named in the annotation must run after the sidecar; each way of getting that wrong is denied with the reason.</summary>
    public static TheoryData<string, Dictionary<string, string>, string[]> InitContainerDenials() => new()
    {
        { "a mesh container", new() { ["token-injector.dev/init-containers"] = "istio-proxy,migrate" }, ["token-injector.dev/init-containers", "init container istio-proxy runs before the sidecar", "istio-init, istio-proxy", "expected a comma-separated list of the init containers that run after the sidecar: migrate, wait"] },
        { "an unknown one", new() { ["token-injector.dev/init-containers"] = "migrate,seed" }, ["token-injector.dev/init-containers", "'migrate,seed'", "unknown init container(s) seed", "after the sidecar: migrate, wait"] },
        { "none at all", new() { ["token-injector.dev/init-containers"] = " , " }, ["token-injector.dev/init-containers", "names no init container"] },
        { "with a classic sidecar", new() { ["token-injector.dev/init-containers"] = "migrate", ["token-injector.dev/native-sidecar"] = "false" }, ["token-injector.dev/init-containers", "ordinary container that starts after every init container", "token-injector.dev/native-sidecar \"true\""] },
    };

    [Theory]
    [MemberData(nameof(InitContainerDenials))]
    public void Decide_InitContainersThatCannotUseTheSidecar_DeniesSayingWhy(string name, Dictionary<string, string> annotations, string[] expectedFragments)
    {
        annotations["token-injector.dev/audiences"] = "https://a.example.com";
        var decision = PodAdmission.Decide(
            Pod(annotations, """{"initContainers":[{"name":"istio-init","image":"proxyv2"},{"name":"istio-proxy","image":"proxyv2","restartPolicy":"Always"},{"name":"migrate","image":"app:1"},{"name":"wait","image":"busybox"}],"containers":[{"name":"app","image":"app:1"}]}"""),
            PodMutatorGoldenTests.Defaults);

        Assert.Equal(AdmissionOutcome.Denied, decision.Outcome);
        foreach (var fragment in expectedFragments)
        {
            Assert.True(decision.Message!.Contains(fragment, StringComparison.Ordinal), $"{name}: '{fragment}' not in: {decision.Message}");
        }
    }

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

    internal static JsonElement Pod(Dictionary<string, string> annotations, string spec = """{"containers":[{"name":"app","image":"app:1","volumeMounts":[{"name":"data","mountPath":"/data/"}]}],"volumes":[{"name":"data","emptyDir":{}}]}""")
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
            ["spec"] = JsonNode.Parse(spec),
        };
        return JsonSerializer.Deserialize<JsonElement>(pod.ToJsonString());
    }
}
