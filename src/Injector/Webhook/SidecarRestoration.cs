using k8s.Models;

namespace TokenInjector.Webhook;

/// <summary>
/// What makes the mutation idempotent: each part the webhook adds is added only when missing or changed, and on
/// re-invocation (another webhook ran after ours) each part it has to put back is named, for the warning and the log.
/// </summary>
internal static class SidecarRestoration
{
    /// <summary>
    /// Puts back what another webhook changed of the sidecar <paramref name="existing"/> in <paramref name="pod"/>:
    /// its place, restartPolicy, probes, securityContext, args, ports and mounts, as <paramref name="desired"/> has
    /// them; each restored part is named in <paramref name="restored"/>. Image and resources are left alone.
    /// </summary>
    public static void Restore(V1Pod pod, V1Container existing, V1Container desired, List<string> restored)
    {
        if (pod.Spec.InitContainers is { } initContainers && initContainers.IndexOf(existing) is var current and >= 0)
        {
            initContainers.RemoveAt(current);
            var index = MeshRules.SidecarIndex(initContainers);
            initContainers.Insert(index, existing);
            if (index != current)
            {
                restored.Add(index == 0 ? $"the place of {PodMutator.SidecarName} as the first init container" : $"the place of {PodMutator.SidecarName} right after init container {initContainers[index - 1].Name}");
            }
        }

        if (existing.RestartPolicy != desired.RestartPolicy)
        {
            existing.RestartPolicy = desired.RestartPolicy;
            restored.Add($"restartPolicy of {PodMutator.SidecarName}");
        }

        existing.StartupProbe = RestoredProbe(existing.StartupProbe, desired.StartupProbe, "startupz", "startupProbe", restored);
        existing.LivenessProbe = RestoredProbe(existing.LivenessProbe, desired.LivenessProbe, "livez", "livenessProbe", restored);
        existing.ReadinessProbe = RestoredProbe(existing.ReadinessProbe, desired.ReadinessProbe, "readyz", "readinessProbe", restored);

        if (!JsonCovers.Covers(existing.SecurityContext, desired.SecurityContext))
        {
            existing.SecurityContext = desired.SecurityContext;
            restored.Add($"securityContext of {PodMutator.SidecarName}");
        }

        if (!(existing.Args ?? []).SequenceEqual(desired.Args))
        {
            existing.Args = desired.Args;
            restored.Add($"args of {PodMutator.SidecarName}");
        }

        existing.Ports ??= [];
        foreach (var port in desired.Ports.Where(p => !existing.Ports.Any(e => JsonCovers.Covers(e, p))))
        {
            existing.Ports = existing.Ports.Where(e => e.Name != port.Name).Append(port).ToList();
            restored.Add($"port {port.Name} of {PodMutator.SidecarName}");
        }

        existing.VolumeMounts ??= [];
        foreach (var mount in desired.VolumeMounts)
        {
            EnsureMount(existing, mount, restored);
        }
    }

    // Istio rewrites every container's probes to go through its agent (MeshRules): that is not a probe to restore.
    private static V1Probe? RestoredProbe(V1Probe? existing, V1Probe? desired, string istioKind, string field, List<string> restored)
    {
        if (JsonCovers.Covers(existing, desired) || MeshRules.IsRewrittenByIstio(existing, PodMutator.SidecarName, istioKind))
        {
            return existing;
        }

        restored.Add($"{field} of {PodMutator.SidecarName}");
        return desired;
    }

    /// <summary>Adds <paramref name="volume"/>, or puts it back as it was; <paramref name="restored"/> (null on the first pass) names a change.</summary>
    public static void EnsureVolume(IList<V1Volume> volumes, V1Volume volume, List<string>? restored)
    {
        var index = volumes.ToList().FindIndex(v => v.Name == volume.Name);
        if (index < 0)
        {
            volumes.Add(volume);
            restored?.Add($"volume {volume.Name}");
        }
        else if (!JsonCovers.Covers(volumes[index], volume))
        {
            volumes[index] = volume;
            restored?.Add($"volume {volume.Name}");
        }
    }

    /// <summary>Adds <paramref name="mount"/> to <paramref name="container"/>, or puts it back; <paramref name="restored"/> (null on the first pass) names a change.</summary>
    public static void EnsureMount(V1Container container, V1VolumeMount mount, List<string>? restored)
    {
        container.VolumeMounts ??= [];
        if (!container.VolumeMounts.Any(m => JsonCovers.Covers(m, mount)))
        {
            container.VolumeMounts = container.VolumeMounts.Where(m => m.Name != mount.Name).Append(mount).ToList();
            restored?.Add($"volume mount {mount.MountPath} of {container.Name}");
        }
    }
}
