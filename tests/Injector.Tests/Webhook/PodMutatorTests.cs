using k8s;
using k8s.Models;
using TokenInjector.Webhook;

namespace TokenInjector.Tests.Webhook;

public sealed class PodMutatorTests
{
    private static readonly SidecarDefaults Defaults = PodMutatorGoldenTests.FromFlags("--sidecar-image=injector:test");

    [Fact]
    public void Mutate_LeavesItsInputUntouched()
    {
        var pod = NewPod();
        var before = KubernetesJson.Serialize(pod);

        var result = PodMutator.Mutate(pod, Request(), Defaults);

        Assert.Equal(before, KubernetesJson.Serialize(pod));
        Assert.NotSame(pod, result.Pod);
        Assert.True(PodMutator.IsInjected(result.Pod));
        Assert.False(PodMutator.IsInjected(pod));
    }

    [Fact]
    public void Mutate_PrometheusScrapeOff_AddsNoAnnotations()
    {
        var result = PodMutator.Mutate(NewPod(), Request(), Defaults with { PrometheusScrape = false });

        Assert.DoesNotContain(result.Pod.Metadata.Annotations ?? new Dictionary<string, string>(), a => a.Key.StartsWith("prometheus.io/", StringComparison.Ordinal));
    }

    [Fact]
    public void Mutate_SidecarIsLockedDown()
    {
        var sidecar = Assert.Single(PodMutator.Mutate(NewPod(), Request(), Defaults).Pod.Spec.InitContainers);
        var security = sidecar.SecurityContext;

        Assert.Equal("Always", sidecar.RestartPolicy);
        Assert.Equal("/readyz", sidecar.StartupProbe.HttpGet.Path);
        Assert.True(security.RunAsNonRoot);
        Assert.Equal(65532, security.RunAsUser);
        Assert.True(security.ReadOnlyRootFilesystem);
        Assert.False(security.AllowPrivilegeEscalation);
        Assert.Equal(["ALL"], security.Capabilities.Drop);
        Assert.Equal("RuntimeDefault", security.SeccompProfile.Type);
    }

    [Fact]
    public void Mutate_TokenDirWithoutFsGroup_Warns()
    {
        var result = PodMutator.Mutate(NewPod(), Request() with { TokenDirectory = "/tokens" }, Defaults);

        Assert.Contains(result.Warnings, w => w.Contains("fsGroup", StringComparison.Ordinal));
    }

    [Fact]
    public void Mutate_ClassicSidecar_IsAnOrdinaryContainerWithoutRestartPolicy()
    {
        var pod = PodMutator.Mutate(NewPod(), Request() with { NativeSidecar = false }, Defaults).Pod;

        Assert.Null(pod.Spec.InitContainers);
        var sidecar = Assert.Single(pod.Spec.Containers, c => c.Name == PodMutator.SidecarName);
        Assert.Null(sidecar.RestartPolicy);
        Assert.Null(sidecar.StartupProbe);
        Assert.Equal("/readyz", sidecar.ReadinessProbe.HttpGet.Path);
    }

    private static InjectionRequest Request() => new()
    {
        Audiences = ["https://a.example.com"],
        Routes = [],
        Containers = ["app"],
    };

    private static V1Pod NewPod() => new()
    {
        Metadata = new V1ObjectMeta { GenerateName = "app-" },
        Spec = new V1PodSpec { Containers = [new V1Container { Name = "app", Image = "app:1" }] },
    };
}
