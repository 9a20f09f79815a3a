using System.Globalization;
using k8s.Models;
using TokenInjector.Configuration;
using TokenInjector.Webhook;

namespace TokenInjector.Tests.Webhook;

/// <summary>
/// <see cref="InjectionAnnotations.Parse"/> as the pure function it is: for each annotation the values it accepts
/// (and what they become) and each way it refuses one, with the whole error. The rows are the parser's branches;
/// <c>InjectionAnnotationsTests</c> checks the same denials through <c>PodAdmission</c>, as an app team meets them.
/// </summary>
public sealed class AnnotationParserTests
{
    private const string A = "token-injector.dev/";
    private const string Service = "https://svc-abc123-uc.a.run.app";
    private const string Invoker = "invoker@p.iam.gserviceaccount.com";
    private const string Reports = "reports@p.iam.gserviceaccount.com";
    private const string Middle = "middle@p.iam.gserviceaccount.com";

    private const string NothingToServe =
        $"annotation {A}audiences, {A}routes, {A}egress or {A}metadata is required: the pod has the {A}inject label but asks for no token; expected e.g. {A}routes: \"8080=https://my-service-abc123-uc.a.run.app\"";

    // What a valid request that sets nothing else looks like, field by field.
    private static readonly Dictionary<string, string> Unset = new()
    {
        [nameof(InjectionRequest.Audiences)] = "",
        [nameof(InjectionRequest.Routes)] = "",
        [nameof(InjectionRequest.EgressPort)] = "",
        [nameof(InjectionRequest.EgressHosts)] = "",
        [nameof(InjectionRequest.MetadataPort)] = "",
        [nameof(InjectionRequest.Impersonations)] = "",
        [nameof(InjectionRequest.TokenDirectory)] = "",
        [nameof(InjectionRequest.Containers)] = "app,worker",
        [nameof(InjectionRequest.InitContainers)] = "",
        [nameof(InjectionRequest.AdminPort)] = "",
        [nameof(InjectionRequest.CpuRequest)] = "",
        [nameof(InjectionRequest.MemoryRequest)] = "",
        [nameof(InjectionRequest.MemoryLimit)] = "",
        [nameof(InjectionRequest.NativeSidecar)] = "True",
    };

    /// <summary>Valid annotations and the fields they set (<c>Field=value</c>); every other field keeps its <see cref="Unset"/> value.</summary>
    public static TheoryData<string, Dictionary<string, string>, string[]> Accepted() => new()
    {
        { "audiences, spaced, repeated", new() { [A + "audiences"] = " https://a ,\nhttps://b,https://a,, " }, ["Audiences=https://a,https://b"] },
        { "routes, as written", new() { [A + "routes"] = $" 8080={Service} ,\n8081=https://b.a.run.app:8443;header=proxy-authorization=custom" }, [$"Routes=8080={Service}|8081=https://b.a.run.app:8443;header=proxy-authorization=custom"] },
        { "egress port", new() { [A + "egress"] = " 8081 " }, ["EgressPort=8081"] },
        { "egress port 1", new() { [A + "egress"] = "1" }, ["EgressPort=1"] },
        { "egress port 65535", new() { [A + "egress"] = "65535" }, ["EgressPort=65535"] },
        { "egress hosts, as written", new() { [A + "egress"] = "8081", [A + "egress-hosts"] = " *.run.app ,\nBilling.example=aud" }, ["EgressPort=8081", "EgressHosts=*.run.app,Billing.example=aud"] },
        { "metadata true", new() { [A + "metadata"] = " TRUE " }, ["MetadataPort=" + SidecarContract.DefaultMetadataPort.ToString(CultureInfo.InvariantCulture)] },
        { "metadata false alone", new() { [A + "metadata"] = "False" }, [] },
        { "metadata port", new() { [A + "metadata"] = " 9000 " }, ["MetadataPort=9000"] },
        { "impersonate, written back", new() { [A + "audiences"] = "x", [A + "impersonate"] = $" {Invoker}=https://a ,\n{Reports};delegates={Middle}" }, ["Audiences=x", $"Impersonations={Invoker}=https://a,{Reports};delegates={Middle}"] },
        { "containers, repeated", new() { [A + "audiences"] = "x", [A + "containers"] = " worker ,worker" }, ["Audiences=x", "Containers=worker"] },
        { "token dir, cleaned", new() { [A + "audiences"] = "x", [A + "token-dir"] = " //srv//tokens/ " }, ["Audiences=x", "TokenDirectory=/srv/tokens"] },
        { "token dir beside the app's mount", new() { [A + "audiences"] = "x", [A + "token-dir"] = "/database" }, ["Audiences=x", "TokenDirectory=/database"] },
        { "native sidecar false", new() { [A + "audiences"] = "x", [A + "native-sidecar"] = " FALSE " }, ["Audiences=x", "NativeSidecar=False"] },
        { "native sidecar true", new() { [A + "audiences"] = "x", [A + "native-sidecar"] = "True" }, ["Audiences=x"] },
        { "init containers, repeated", new() { [A + "audiences"] = "x", [A + "init-containers"] = "migrate, migrate" }, ["Audiences=x", "InitContainers=migrate"] },
        { "admin port", new() { [A + "audiences"] = "x", [A + "admin-port"] = "9500" }, ["Audiences=x", "AdminPort=9500"] },
        { "cpu request, trimmed", new() { [A + "audiences"] = "x", [A + "cpu-request"] = " 50m " }, ["Audiences=x", "CpuRequest=50m"] },
        { "memory request", new() { [A + "audiences"] = "x", [A + "memory-request"] = "32Mi" }, ["Audiences=x", "MemoryRequest=32Mi"] },
        { "memory limit", new() { [A + "audiences"] = "x", [A + "memory-limit"] = "1G" }, ["Audiences=x", "MemoryLimit=1G"] },
        { "an annotation of another prefix", new() { [A + "audiences"] = "x", ["example.com/routes"] = "anything" }, ["Audiences=x"] },
    };

    [Theory]
    [MemberData(nameof(Accepted))]
    public void Parse_ValidAnnotation_SetsItsFieldsAndNoOther(string name, Dictionary<string, string> annotations, string[] expected)
    {
        var errors = new List<string>();

        var request = InjectionAnnotations.Parse(Pod(annotations), errors);

        Assert.True(errors.Count == 0, $"{name}: {string.Join(" | ", errors)}");
        Assert.NotNull(request);
        var set = expected.Select(pair => pair.Split('=', 2)).ToDictionary(pair => pair[0], pair => pair[1]);
        Assert.Equal(
            Unset.Keys.Select(field => $"{field}={set.GetValueOrDefault(field, Unset[field])}"),
            Unset.Keys.Select(field => $"{field}={Describe(request, field)}"));
    }

    /// <summary>Each refusal, one annotation at a time, with the whole message.</summary>
    public static TheoryData<string, Dictionary<string, string>, string> Refused() => new()
    {
        { "unknown annotation", new() { [A + "audiences"] = "x", [A + "route"] = "8080" }, $"annotation {A}route is not known; the token-injector.dev annotations are: {A}audiences, {A}routes, {A}egress, {A}egress-hosts, {A}metadata, {A}impersonate, {A}token-dir, {A}containers, {A}init-containers, {A}cpu-request, {A}memory-request, {A}memory-limit, {A}native-sidecar, {A}admin-port" },
        { "audience", new() { [A + "audiences"] = "https://a,a b" }, $"annotation {A}audiences: 'a b' {AudienceRules.Problem("a b")}; expected a comma-separated list of audiences such as https://my-service-abc123-uc.a.run.app" },
        { "route", new() { [A + "routes"] = "8080=http://svc.a.run.app" }, $"annotation {A}routes: '8080=http://svc.a.run.app' {RouteProblem("8080=http://svc.a.run.app")}; expected a comma-separated list of PORT=https://HOST[:PORT][;header=MODE][=AUDIENCE], e.g. 8080=https://my-service-abc123-uc.a.run.app" },
        { "egress port not a number", new() { [A + "egress"] = "http" }, $"annotation {A}egress: 'http' is not a port; expected a number from 1 to 65535 that no container of the pod uses, e.g. \"9465\"" },
        { "egress port 0", new() { [A + "egress"] = "0" }, $"annotation {A}egress: '0' is not a port; expected a number from 1 to 65535 that no container of the pod uses, e.g. \"9465\"" },
        { "egress port 65536", new() { [A + "egress"] = "65536" }, $"annotation {A}egress: '65536' is not a port; expected a number from 1 to 65535 that no container of the pod uses, e.g. \"9465\"" },
        { "egress port signed", new() { [A + "egress"] = "+8081" }, $"annotation {A}egress: '+8081' is not a port; expected a number from 1 to 65535 that no container of the pod uses, e.g. \"9465\"" },
        { "egress host", new() { [A + "egress"] = "8081", [A + "egress-hosts"] = "a.*.run.app" }, $"annotation {A}egress-hosts: 'a.*.run.app' {EgressHostProblem("a.*.run.app")}; expected a comma-separated list of PATTERN[;header=MODE][=AUDIENCE], e.g. *.run.app or billing-abc123-uc.a.run.app" },
        { "egress host twice", new() { [A + "egress"] = "8081", [A + "egress-hosts"] = "a.run.app,A.run.app.=x" }, $"annotation {A}egress-hosts: 'A.run.app.=x' repeats the pattern a.run.app; expected each host once, with one audience" },
        { "egress hosts without egress", new() { [A + "audiences"] = "x", [A + "egress-hosts"] = "*.run.app" }, $"annotation {A}egress-hosts is given without {A}egress, so no listener would use it; expected {A}egress: \"PORT\" too, e.g. \"8081\"" },
        { "metadata word", new() { [A + "metadata"] = "yes" }, $"annotation {A}metadata: 'yes' is neither a port nor true/false; expected \"true\" (port 8988) or a number from 1 to 65535 that no container of the pod uses, e.g. \"8988\"" },
        { "metadata port 0", new() { [A + "metadata"] = "0" }, $"annotation {A}metadata: '0' is neither a port nor true/false; expected \"true\" (port 8988) or a number from 1 to 65535 that no container of the pod uses, e.g. \"8988\"" },
        { "impersonate", new() { [A + "audiences"] = "x", [A + "impersonate"] = "invoker@example.com" }, $"annotation {A}impersonate: 'invoker@example.com' has service account 'invoker@example.com', which is not a service account's email (NAME@PROJECT.iam.gserviceaccount.com) ({ImpersonationSpec.Syntax}); expected a comma-separated list of {ImpersonationSpec.Syntax}, e.g. invoker@my-project.iam.gserviceaccount.com=https://billing-abc123-uc.a.run.app" },
        { "impersonate, delegates without an account", new() { [A + "audiences"] = "x", [A + "impersonate"] = $";delegates={Middle}" }, $"annotation {A}impersonate: ';delegates={Middle}' names delegates but no service account to act as ({ImpersonationSpec.Syntax}); expected a comma-separated list of {ImpersonationSpec.Syntax}, e.g. invoker@my-project.iam.gserviceaccount.com=https://billing-abc123-uc.a.run.app" },
        { "impersonate, two for every audience", new() { [A + "audiences"] = "x", [A + "impersonate"] = $"{Invoker},{Reports}" }, $"annotation {A}impersonate: '{Reports}' is a second entry without an audience; one account acts for every audience no entry names" },
        { "nothing to serve", new() { [A + "containers"] = "app" }, NothingToServe },
        { "containers none", new() { [A + "audiences"] = "x", [A + "containers"] = " , " }, $"annotation {A}containers: ' , ' names no container; expected a comma-separated list of the pod's containers: app, worker" },
        { "containers unknown", new() { [A + "audiences"] = "x", [A + "containers"] = "app,nope,linkerd-proxy" }, $"annotation {A}containers: 'app,nope,linkerd-proxy' names unknown container(s) nope, linkerd-proxy; expected a comma-separated list of the pod's containers: app, worker" },
        { "token dir relative", new() { [A + "audiences"] = "x", [A + "token-dir"] = "tokens" }, TokenDirError("tokens", "is not an absolute path") },
        { "token dir with dot-dot", new() { [A + "audiences"] = "x", [A + "token-dir"] = "/srv/../etc" }, TokenDirError("/srv/../etc", "is not an absolute path") },
        { "token dir with dot", new() { [A + "audiences"] = "x", [A + "token-dir"] = "/srv/./tokens" }, TokenDirError("/srv/./tokens", "is not an absolute path") },
        { "token dir root", new() { [A + "audiences"] = "x", [A + "token-dir"] = "/" }, TokenDirError("/", "would hide the image's own /") },
        { "token dir var run, unclean", new() { [A + "audiences"] = "x", [A + "token-dir"] = "//var//run/" }, TokenDirError("//var//run/", "would hide the image's own /var/run") },
        { "token dir tmp", new() { [A + "audiences"] = "x", [A + "token-dir"] = "/tmp" }, TokenDirError("/tmp", "would hide the image's own /tmp") },
        { "token dir inside proc", new() { [A + "audiences"] = "x", [A + "token-dir"] = "/proc/self/tokens" }, TokenDirError("/proc/self/tokens", "would hide the image's own /proc/self/tokens") },
        { "token dir inside dev", new() { [A + "audiences"] = "x", [A + "token-dir"] = "/dev/tokens" }, TokenDirError("/dev/tokens", "would hide the image's own /dev/tokens") },
        { "token dir inside sys", new() { [A + "audiences"] = "x", [A + "token-dir"] = "/sys/x" }, TokenDirError("/sys/x", "would hide the image's own /sys/x") },
        { "token dir over the service account", new() { [A + "audiences"] = "x", [A + "token-dir"] = "/var/run/secrets" }, TokenDirError("/var/run/secrets", "overlaps /var/run/secrets/kubernetes.io/serviceaccount, where Kubernetes mounts the service account token") },
        { "token dir inside the service account (run)", new() { [A + "audiences"] = "x", [A + "token-dir"] = "/run/secrets/kubernetes.io/serviceaccount/t" }, TokenDirError("/run/secrets/kubernetes.io/serviceaccount/t", "overlaps /run/secrets/kubernetes.io/serviceaccount, where Kubernetes mounts the service account token") },
        { "token dir inside the socket dir", new() { [A + "audiences"] = "x", [A + "token-dir"] = "/var/run/token-injector/t" }, TokenDirError("/var/run/token-injector/t", "overlaps the socket directory /var/run/token-injector") },
        { "token dir over an app mount", new() { [A + "audiences"] = "x", [A + "token-dir"] = "/data" }, TokenDirError("/data", "overlaps the volume mount /data of an app container") },
        { "token dir inside an app mount", new() { [A + "audiences"] = "x", [A + "token-dir"] = "/data/t" }, TokenDirError("/data/t", "overlaps the volume mount /data of an app container") },
        { "token dir over an init container's mount", new() { [A + "audiences"] = "x", [A + "token-dir"] = "/seed" }, TokenDirError("/seed", "overlaps the volume mount /seed/cache of an app container") },
        { "native sidecar", new() { [A + "audiences"] = "x", [A + "native-sidecar"] = "yes" }, $"annotation {A}native-sidecar: 'yes' is not a boolean; expected \"true\" (an init container with restartPolicy Always) or \"false\" (an ordinary container)" },
        { "init containers none", new() { [A + "audiences"] = "x", [A + "init-containers"] = "," }, $"annotation {A}init-containers: ',' names no init container; expected a comma-separated list of the init containers that run after the sidecar: migrate" },
        { "init containers with a classic sidecar", new() { [A + "audiences"] = "x", [A + "init-containers"] = "migrate", [A + "native-sidecar"] = "false" }, $"annotation {A}init-containers: 'migrate' names init containers, but with {A}native-sidecar \"false\" the sidecar is an ordinary container that starts after every init container, so none of them could use it; expected {A}native-sidecar \"true\" (the default) or no {A}init-containers annotation" },
        { "init container of the mesh", new() { [A + "audiences"] = "x", [A + "init-containers"] = "istio-init" }, $"annotation {A}init-containers: init container istio-init runs before the sidecar (istio-init, istio-proxy set up the service mesh and must start first), so it cannot use tokens; expected a comma-separated list of the init containers that run after the sidecar: migrate" },
        { "init container unknown", new() { [A + "audiences"] = "x", [A + "init-containers"] = "migrate,app" }, $"annotation {A}init-containers: 'migrate,app' names unknown init container(s) app; expected a comma-separated list of the init containers that run after the sidecar: migrate" },
        { "admin port", new() { [A + "audiences"] = "x", [A + "admin-port"] = "metrics" }, $"annotation {A}admin-port: 'metrics' is not a port; expected a number from 1 to 65535 that no container of the pod uses, e.g. \"9465\"" },
        { "cpu request", new() { [A + "audiences"] = "x", [A + "cpu-request"] = " lots " }, $"annotation {A}cpu-request: 'lots' is not a resource quantity; expected {QuantityRules.Expected}" },
        { "memory request", new() { [A + "audiences"] = "x", [A + "memory-request"] = "-1Mi" }, $"annotation {A}memory-request: '-1Mi' is not a resource quantity; expected {QuantityRules.Expected}" },
        { "memory limit", new() { [A + "audiences"] = "x", [A + "memory-limit"] = "64MB" }, $"annotation {A}memory-limit: '64MB' is not a resource quantity; expected {QuantityRules.Expected}" },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public void Parse_BadAnnotation_IsRefusedWithItsWholeMessage(string name, Dictionary<string, string> annotations, string expected)
    {
        var errors = new List<string>();

        var request = InjectionAnnotations.Parse(Pod(annotations), errors);

        Assert.Null(request);
        Assert.True(errors.Count == 1 && errors[0] == expected, $"{name}:\nexpected: {expected}\nactual:   {string.Join("\n          ", errors)}");
    }

    [Fact]
    public void Parse_NoInitContainerAfterTheSidecar_SaysTheAnnotationIsNotWanted()
    {
        var errors = new List<string>();
        var pod = Pod(new() { [A + "audiences"] = "x", [A + "init-containers"] = "setup" });
        pod.Spec.InitContainers = [new V1Container { Name = "istio-init" }];

        Assert.Null(InjectionAnnotations.Parse(pod, errors));
        Assert.Equal([$"annotation {A}init-containers: 'setup' names unknown init container(s) setup; expected no init-containers annotation: the pod has no init container that runs after the sidecar"], errors);
    }

    [Fact]
    public void Parse_TheSidecarOfAnEarlierPass_IsNeitherAnAppContainerNorItsMountsTheApps()
    {
        var errors = new List<string>();
        var pod = Pod(new() { [A + "audiences"] = "x", [A + "token-dir"] = PodMutator.SidecarTokenDirectory });
        pod.Spec.Containers.Add(new V1Container
        {
            Name = PodMutator.SidecarName,
            VolumeMounts = [new V1VolumeMount { Name = "elsewhere", MountPath = PodMutator.SidecarTokenDirectory }],
        });
        pod.Spec.Containers[1].VolumeMounts = [new V1VolumeMount { Name = PodMutator.TokensVolume, MountPath = PodMutator.SidecarTokenDirectory }];

        var request = InjectionAnnotations.Parse(pod, errors);

        Assert.Empty(errors);
        Assert.Equal(["app", "worker"], request!.Containers);
        Assert.Equal(PodMutator.SidecarTokenDirectory, request.TokenDirectory);
    }

    /// <summary>Several bad annotations are all reported, in the parser's order, whatever the order of the pod's annotations.</summary>
    [Fact]
    public void Parse_SeveralBadAnnotations_ReportsEachInTheParsersOrder()
    {
        var errors = new List<string>();
        var annotations = new Dictionary<string, string>
        {
            [A + "memory-limit"] = "x",
            [A + "native-sidecar"] = "2",
            [A + "token-dir"] = "t",
            [A + "containers"] = "nope",
            [A + "impersonate"] = "i",
            [A + "metadata"] = "m",
            [A + "egress-hosts"] = "a/b",
            [A + "egress"] = "e",
            [A + "routes"] = "r",
            [A + "audiences"] = "a b",
            [A + "zzz"] = "",
            [A + "aaa"] = "",
        };

        Assert.Null(InjectionAnnotations.Parse(Pod(annotations), errors));

        Assert.Equal(
            ["aaa", "zzz", "audiences", "routes", "egress", "egress-hosts", "metadata", "impersonate", "containers", "token-dir", "native-sidecar", "memory-limit"],
            errors.Select(e => e["annotation token-injector.dev/".Length..].Split(' ', ':')[0]));
    }

    /// <summary>The "nothing to serve" error is not added to a refused audience or route, nor to an unknown annotation that starts as one.</summary>
    [Theory]
    [InlineData(A + "audiences", "a b")]
    [InlineData(A + "routes", "8080")]
    [InlineData(A + "audiences-extra", "x")]
    [InlineData(A + "routesx", "x")]
    public void Parse_RefusedAudienceOrRoute_IsNotAlsoToldItAsksForNothing(string annotation, string value)
    {
        var errors = new List<string>();

        Assert.Null(InjectionAnnotations.Parse(Pod(new() { [annotation] = value }), errors));

        Assert.Single(errors);
        Assert.DoesNotContain("is required", errors[0], StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_NoAnnotationsAtAll_AsksForOne()
    {
        var errors = new List<string>();
        var pod = Pod([]);
        pod.Metadata.Annotations = null;

        Assert.Null(InjectionAnnotations.Parse(pod, errors));
        Assert.Equal([NothingToServe], errors);
    }

    // Init containers: a mesh's two, then the app's; containers: the app's two, one mounting /data/, and a mesh proxy.
    private static V1Pod Pod(Dictionary<string, string> annotations) => new()
    {
        Metadata = new V1ObjectMeta { Annotations = annotations },
        Spec = new V1PodSpec
        {
            InitContainers =
            [
                new V1Container { Name = "istio-init" },
                new V1Container { Name = "istio-proxy", RestartPolicy = "Always" },
                new V1Container { Name = "migrate", VolumeMounts = [new V1VolumeMount { Name = "seed", MountPath = "/seed/cache" }] },
            ],
            Containers =
            [
                new V1Container { Name = "app", VolumeMounts = [new V1VolumeMount { Name = "data", MountPath = "/data/" }] },
                new V1Container { Name = "worker" },
                new V1Container { Name = "linkerd-proxy" },
            ],
        },
    };

    private static string TokenDirError(string value, string problem) =>
        $"annotation {A}token-dir: '{value}' {problem}; expected an absolute directory path that the app does not use yet, such as /var/run/secrets/tokens";

    private static string RouteProblem(string text) => RouteSpec.TryParse(text, out _, out var problem) ? "(accepted)" : problem;

    private static string EgressHostProblem(string text) => EgressHostSpec.TryParse(text, out _, out var problem) ? "(accepted)" : problem;

    private static string Describe(InjectionRequest request, string field) => typeof(InjectionRequest).GetProperty(field)!.GetValue(request) switch
    {
        null => string.Empty,
        IEnumerable<(RouteSpec Route, string Text)> routes => string.Join("|", routes.Select(r => r.Text)),
        IEnumerable<string> texts => string.Join(",", texts),
        IEnumerable<ImpersonationSpec> impersonations => string.Join(",", impersonations),
        var value => Convert.ToString(value, CultureInfo.InvariantCulture) ?? string.Empty,
    };
}
