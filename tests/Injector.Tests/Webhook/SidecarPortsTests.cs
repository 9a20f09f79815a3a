using TokenInjector.Webhook;

namespace TokenInjector.Tests.Webhook;

/// <summary>
/// Every port the sidecar binds (admin, routes, egress) against every port of the pod: a clash is denied naming the container,
/// the port and the annotation to change, because whichever process binds second crash-loops.
/// </summary>
public sealed class SidecarPortsTests
{
    public static TheoryData<string, Dictionary<string, string>, string, string[]> Clashes() => new()
    {
        {
            "an init container declares the admin port",
            new() { ["token-injector.dev/audiences"] = "https://a.example.com" },
            """{"initContainers":[{"name":"exporter","image":"otel","restartPolicy":"Always","ports":[{"containerPort":9464}]}],"containers":[{"name":"app","image":"app:1"}]}""",
            ["token-injector.dev/admin-port", "uses port 9464, which container exporter declares", "set token-injector.dev/admin-port to another port"]
        },
        {
            "a route on a port the mesh proxy binds without declaring it",
            new() { ["token-injector.dev/routes"] = "15001=https://a.a.run.app" },
            """{"initContainers":[{"name":"istio-init","image":"proxyv2"},{"name":"istio-proxy","image":"proxyv2","restartPolicy":"Always"}],"containers":[{"name":"app","image":"app:1"}]}""",
            ["token-injector.dev/routes", "'15001=https://a.a.run.app' uses port 15001, which container istio-proxy binds (it is the mesh's proxy)", "another local port in token-injector.dev/routes"]
        },
        {
            "a route on the Linkerd proxy's outbound port",
            new() { ["token-injector.dev/routes"] = "4140=https://a.a.run.app" },
            """{"containers":[{"name":"linkerd-proxy","image":"proxy"},{"name":"app","image":"app:1"}]}""",
            ["uses port 4140, which container linkerd-proxy binds"]
        },
        {
            "the egress port on a port the app declares",
            new() { ["token-injector.dev/egress"] = "8080" },
            """{"containers":[{"name":"app","image":"app:1","ports":[{"containerPort":8080}]}]}""",
            ["annotation token-injector.dev/egress: the egress listener uses port 8080, which container app declares", "set token-injector.dev/egress to another port that no container of the pod uses"]
        },
        {
            "two routes on one port",
            new() { ["token-injector.dev/routes"] = "8080=https://a.a.run.app,8080=https://b.a.run.app" },
            """{"containers":[{"name":"app","image":"app:1"}]}""",
            ["route '8080=https://b.a.run.app' uses port 8080, as route '8080=https://a.a.run.app' does"]
        },
    };

    [Theory]
    [MemberData(nameof(Clashes))]
    public void Decide_PortClash_DeniesNamingContainerPortAndAnnotation(string name, Dictionary<string, string> annotations, string spec, string[] expectedFragments)
    {
        var decision = PodAdmission.Decide(InjectionAnnotationsTests.Pod(annotations, spec), PodMutatorGoldenTests.Defaults);

        Assert.Equal(AdmissionOutcome.Denied, decision.Outcome);
        foreach (var fragment in expectedFragments)
        {
            Assert.True(decision.Message!.Contains(fragment, StringComparison.Ordinal), $"{name}: '{fragment}' not in: {decision.Message}");
        }
    }

    [Fact]
    public void Decide_UdpPortEqualToARoute_IsNoClash()
    {
        var decision = PodAdmission.Decide(
            InjectionAnnotationsTests.Pod(
                new() { ["token-injector.dev/routes"] = "8125=https://a.a.run.app" },
                """{"containers":[{"name":"app","image":"app:1","ports":[{"containerPort":8125,"protocol":"UDP"}]}]}"""),
            PodMutatorGoldenTests.Defaults);

        Assert.Equal(AdmissionOutcome.Mutated, decision.Outcome);
    }

    [Fact]
    public void Of_ListsTheAdminListenerEveryRouteAndTheEgressPort_WithTheAnnotationThatMovesEach()
    {
        var request = new InjectionRequest
        {
            Audiences = [],
            Routes = [(new TokenInjector.Configuration.RouteSpec(8080, "a.a.run.app", 443, "https://a.a.run.app"), "8080=https://a.a.run.app")],
            EgressPort = 8081,
            Containers = ["app"],
            AdminPort = 9470,
        };

        var listeners = SidecarPorts.Of(request, PodMutatorGoldenTests.Defaults);

        Assert.Equal([(9470, "token-injector.dev/admin-port"), (8080, "token-injector.dev/routes"), (8081, "token-injector.dev/egress")], listeners.Select(l => (l.Port, l.Annotation)));
    }
}
