using k8s.Models;
using TokenInjector.Configuration;

namespace TokenInjector.Webhook;

/// <summary>The pod's own names and paths that clash with what the webhook adds, and, on re-invocation, what another webhook did that cannot be undone.</summary>
internal static class InjectionConflicts
{
    /// <summary>
    /// Problems that make injection impossible for this pod: names and paths of its own that clash with what the webhook
    /// adds, and, on re-invocation, changes by another webhook that cannot be undone without undoing its work.
    /// </summary>
    /// <param name="pod">The pod as the API server sent it.</param>
    /// <param name="nativeSidecar">Where the pod's annotations put the sidecar, or null when they could not be read.</param>
    public static IEnumerable<string> Of(V1Pod pod, bool? nativeSidecar)
    {
        var injected = PodMutator.IsInjected(pod);
        foreach (var volume in pod.Spec?.Volumes ?? [])
        {
            // Once injected, these volumes are the webhook's own.
            if (!injected && volume.Name is PodMutator.SocketVolume or PodMutator.TokensVolume)
            {
                yield return $"the pod already has a volume named {volume.Name}, which token-injector adds; rename it";
            }
        }

        foreach (var container in (pod.Spec?.InitContainers ?? []).Concat(pod.Spec?.Containers ?? []))
        {
            if ((container.VolumeMounts ?? []).Any(m => m.MountPath.TrimEnd('/') == SidecarContract.SocketDirectory && !(injected && m.Name == PodMutator.SocketVolume)))
            {
                yield return $"container {container.Name} already mounts {SidecarContract.SocketDirectory}, where token-injector puts its socket; mount that volume at another path";
            }
        }

        if (!injected)
        {
            yield break;
        }

        var copies = (pod.Spec?.InitContainers ?? []).Count(c => c.Name == PodMutator.SidecarName) + (pod.Spec?.Containers ?? []).Count(c => c.Name == PodMutator.SidecarName);
        var inInitContainers = (pod.Spec?.InitContainers ?? []).Any(c => c.Name == PodMutator.SidecarName);
        if (copies > 1)
        {
            yield return $"the pod has {copies} containers named {PodMutator.SidecarName}: another webhook or the pod's template added one; remove it, token-injector adds its own";
        }
        else if (nativeSidecar is { } native && inInitContainers != native)
        {
            yield return SidecarMoved(inInitContainers, native);
        }
    }

    /// <summary>
    /// The denial of a re-invocation that finds the sidecar moved between init containers and containers. It is not
    /// moved back, because that would change the order in which the pod starts; the message says who must change.
    /// </summary>
    private static string SidecarMoved(bool inInitContainers, bool native)
    {
        var (found, expected) = inInitContainers ? ("spec.initContainers", "spec.containers") : ("spec.containers", "spec.initContainers");
        return $"the {PodMutator.SidecarName} container is in {found}, but {InjectionAnnotations.NativeSidecar} is \"{(native ? "true" : "false")}\" and puts it in {expected}: "
            + "another webhook moved it, and moving it back would change the order in which the pod starts; "
            + $"stop that webhook from moving it, or set {InjectionAnnotations.NativeSidecar} to match";
    }
}
