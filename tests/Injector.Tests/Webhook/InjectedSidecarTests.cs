using System.Text.Json;
using k8s;
using k8s.Models;
using TokenInjector.Configuration;
using TokenInjector.Webhook;

namespace TokenInjector.Tests.Webhook;

/// <summary>
/// The container the webhook injects must be one that <c>injector sidecar</c> accepts: its args and env go through
/// the sidecar's own option table and validation (<see cref="InjectedSidecarRunTests"/> runs one for real). Every
/// golden case is checked, so each annotation combination the fixtures cover is covered here too.
/// </summary>
public sealed class InjectedSidecarTests
{
    [Theory]
    [MemberData(nameof(PodMutatorGoldenTests.Cases), MemberType = typeof(PodMutatorGoldenTests))]
    public void InjectedContainer_IsAcceptedBySidecarCommandLine(string name)
    {
        var input = GoldenFixtures.Text(name + GoldenFixtures.InputSuffix);
        var pod = KubernetesJson.Deserialize<V1Pod>(input);
        var errors = new List<string>();
        var request = InjectionAnnotations.Parse(pod, errors);
        if (PodMutator.IsInjected(pod))
        {
            return; // Nothing injected; the case it copies is checked on its own.
        }

        Assert.Empty(errors);
        var mutated = PodMutator.Mutate(pod, request!, PodMutatorGoldenTests.Defaults).Pod;
        var sidecar = (mutated.Spec.InitContainers ?? []).Concat(mutated.Spec.Containers).Single(c => c.Name == PodMutator.SidecarName);

        var settings = Accept(sidecar);

        Assert.Equal(SidecarContract.SocketPath, settings.SocketPath);
        Assert.Equal(SidecarPorts.AdminPort(request!, PodMutatorGoldenTests.Defaults), settings.AdminEndpoint.Port);
        Assert.Equal(request!.Routes.Select(r => r.Route), settings.Routes);
        foreach (var audience in request.Audiences)
        {
            Assert.Contains(audience, settings.Audiences);
        }

        Assert.Equal(request.TokenDirectory is null ? null : PodMutator.SidecarTokenDirectory, settings.TokenDirectory);
        Assert.True(settings.Logging.Json);
        var mountedAt = sidecar.VolumeMounts.Select(m => m.MountPath).ToList();
        Assert.Contains(Path.GetDirectoryName(settings.SocketPath), mountedAt);
        if (settings.TokenDirectory is not null)
        {
            Assert.Contains(settings.TokenDirectory, mountedAt);
        }

        // The admin port the probes hit is the one the sidecar listens on.
        Assert.All(new[] { sidecar.StartupProbe, sidecar.LivenessProbe, sidecar.ReadinessProbe }.Where(p => p is not null),
            probe => Assert.Equal(settings.AdminEndpoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), probe.HttpGet.Port.Value));
    }

    [Fact]
    public void InjectedContainer_ThroughTheWholeDecision_IsAccepted()
    {
        var decision = PodAdmission.Decide(
            InjectionAnnotationsTests.Pod(new()
            {
                ["token-injector.dev/routes"] = "8080=https://a-abc123-uc.a.run.app,8081=https://b.example.com:8443;header=proxy-authorization=custom-aud",
                ["token-injector.dev/audiences"] = "https://c.example.com",
                ["token-injector.dev/token-dir"] = "/tokens",
                ["token-injector.dev/egress"] = "8082",
                ["token-injector.dev/egress-hosts"] = "*.run.app;header=x-serverless-authorization,iap.example.com;header=proxy-authorization=1234-abc.apps.googleusercontent.com",
            }),
            PodMutatorGoldenTests.Defaults);
        var added = decision.Patch!.Single(op => op!["path"]!.GetValue<string>() == "/spec/initContainers")!["value"]![0]!;
        var sidecar = KubernetesJson.Deserialize<V1Container>(added.ToJsonString());

        var settings = Accept(sidecar);

        Assert.Equal([null, AuthHeaderMode.ProxyAuthorization], settings.Routes.Select(r => r.Header));
        Assert.Equal(
            [new EgressHostSpec("*.run.app", null, AuthHeaderMode.XServerlessAuthorization), new EgressHostSpec("iap.example.com", "1234-abc.apps.googleusercontent.com", AuthHeaderMode.ProxyAuthorization)],
            settings.EgressHosts);
        Assert.Equal(["https://c.example.com", "https://a-abc123-uc.a.run.app", "custom-aud"], settings.Audiences);
        Assert.Equal(PodMutator.SidecarTokenDirectory, settings.TokenDirectory);
    }

    private static SidecarSettings Accept(V1Container sidecar)
    {
        var args = sidecar.Args.ToList();
        Assert.Equal("sidecar", args[0]);
        var environment = (sidecar.Env ?? []).ToDictionary(e => e.Name, e => e.Value);
        var parsed = SidecarSettings.Command.Parse(args[1..], name => environment.GetValueOrDefault(name));
        Assert.False(parsed.HelpRequested);
        try
        {
            return SidecarSettings.From(parsed, name => environment.GetValueOrDefault(name));
        }
        catch (ConfigurationErrorException ex)
        {
            Assert.Fail("the sidecar rejects the injected container: " + string.Join(" | ", ex.Errors) + " (args: " + JsonSerializer.Serialize(args) + ")");
            throw;
        }
    }
}
