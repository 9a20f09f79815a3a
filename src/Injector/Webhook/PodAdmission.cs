using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;

namespace TokenInjector.Webhook;

/// <summary>
/// The webhook's decision on one admission request, as a pure function: which requests it acts on (pods being
/// created, outside kube-system and its own namespace), then, from the pod as the API server sent it, a decision with
/// its JSON patch: parse, validate the annotations and the pod (ports, host network, clashes), run
/// <see cref="PodMutator"/>, and diff the original and mutated pods as serialized by the KubernetesClient models.
/// A pod that already has the sidecar goes the same way: the webhook is re-invoked after other webhooks changed the
/// pod, and the mutation restores what they broke, so an intact pod yields no patch.
/// The rules are in one place (<c>Judge</c>) for pods and for workloads' pod templates (<see cref="WorkloadAdmission"/>),
/// so a template is denied with the very message its pods would get.
/// </summary>
internal static class PodAdmission
{
    /// <summary>Namespaces never injected, whatever their pods ask: the cluster's own.</summary>
    public const string SystemNamespace = "kube-system";

    /// <param name="request">The request as the API server sent it.</param>
    /// <param name="ownNamespace">The webhook's own namespace, never injected either (its pods must start without it); null when unknown.</param>
    /// <param name="defaults">The sidecar's defaults.</param>
    public static AdmissionDecision Decide(AdmissionRequest request, string? ownNamespace, SidecarDefaults defaults)
    {
        var @namespace = request.Namespace ?? string.Empty;
        if (request.Kind is not { Group: "" or null, Kind: "Pod" })
        {
            return AdmissionDecision.Skip($"not a Pod ({request.Kind?.Kind})");
        }

        if (request.Operation != "CREATE")
        {
            return AdmissionDecision.Skip($"operation {request.Operation} (only CREATE is handled)");
        }

        if (NeverInjected(@namespace, ownNamespace))
        {
            return AdmissionDecision.Skip($"namespace {@namespace} is never injected");
        }

        if (request.Object is not { ValueKind: JsonValueKind.Object } podObject)
        {
            throw new InvalidAdmissionReviewException("request.object is missing or not an object");
        }

        return Decide(podObject, defaults);
    }

    /// <summary>Whether pods in <paramref name="namespace"/> are left alone whatever they ask: the cluster's and the webhook's own.</summary>
    public static bool NeverInjected(string @namespace, string? ownNamespace) =>
        @namespace == SystemNamespace || (ownNamespace is not null && @namespace == ownNamespace);

    /// <summary>The pod's <c>spec.serviceAccountName</c>, or null when it runs as the namespace's default.</summary>
    public static string? ServiceAccountName(JsonElement pod) =>
        pod.TryGetProperty("spec", out var spec) && spec.ValueKind == JsonValueKind.Object
        && spec.TryGetProperty("serviceAccountName", out var name) && name.ValueKind == JsonValueKind.String
            ? name.GetString()
            : null;

    /// <summary>The decision on a pod the webhook acts on.</summary>
    public static AdmissionDecision Decide(JsonElement podObject, SidecarDefaults defaults)
    {
        var pod = Read(podObject, "request.object is not a Pod");
        var (result, usesPodIdentity, denial) = Judge(pod, defaults);
        if (denial is not null)
        {
            return Denied(denial);
        }

        var patch = JsonPatchDiff.Create(ToNode(pod), ToNode(result!.Pod), movable: PodMutator.SidecarName);
        if (patch.Count == 0)
        {
            return AdmissionDecision.Skip(PodMutator.IsInjected(pod) ? "already injected, sidecar intact" : "no change");
        }

        // On re-invocation the message says what was restored, for the log.
        var restored = result.Restored.Count > 0 ? "restored " + string.Join("; ", result.Restored) : null;
        return new AdmissionDecision(AdmissionOutcome.Mutated, patch, restored, result.Warnings) { UsesPodIdentity = usesPodIdentity };
    }

    /// <summary>
    /// The same judgement on a pod that does not exist yet, a workload's pod template shaped as a pod: denied with the
    /// message its pods would get, or allowed with the warnings they would get; never a patch, since injection happens
    /// only when the pod itself is created.
    /// </summary>
    /// <param name="podObject">The template as a pod: its metadata (with the workload's namespace) and its spec.</param>
    /// <param name="defaults">The sidecar's defaults.</param>
    /// <param name="what">Where the template sits in the request, for the 400 when it is not a pod template.</param>
    public static AdmissionDecision Validate(JsonElement podObject, SidecarDefaults defaults, string what)
    {
        var (result, usesPodIdentity, denial) = Judge(Read(podObject, what + " is not a pod template"), defaults);
        return denial is not null
            ? Denied(denial)
            : new AdmissionDecision(AdmissionOutcome.Allowed, null, null, result!.Warnings) { UsesPodIdentity = usesPodIdentity };
    }

    private static AdmissionDecision Denied(string message) => new(AdmissionOutcome.Denied, null, message, []);

    private static V1Pod Read(JsonElement podObject, string notAPod)
    {
        V1Pod pod;
        try
        {
            pod = KubernetesJson.Deserialize<V1Pod>(podObject.GetRawText());
        }
        // The models' IntOrString converter throws NotSupportedException for a value of neither kind (a probe's port as true).
        catch (Exception ex) when (ex is JsonException or FormatException or InvalidOperationException or NotSupportedException)
        {
            throw new InvalidAdmissionReviewException(notAPod + ": " + ex.Message);
        }

        if (ShapeProblem(pod) is { } problem)
        {
            throw new InvalidAdmissionReviewException(notAPod + ": " + problem);
        }

        // The webhook never patches the status, and one sent at CREATE is the client's, not the API server's: leave it
        // out of the diff, with whatever it holds.
        pod.Status = null;
        return pod;
    }

    // Every rule on a pod, once, for both the pod and the template path: the denial message, or the mutation's result
    // and whether some of the pod's tokens are its own identity's (AdmissionDecision.UsesPodIdentity).
    private static (MutationResult? Result, bool UsesPodIdentity, string? Denial) Judge(V1Pod pod, SidecarDefaults defaults)
    {
        var errors = new List<string>();
        var request = InjectionAnnotations.Parse(pod, errors);
        errors.AddRange(InjectionConflicts.Of(pod, request?.NativeSidecar));
        if (request is not null)
        {
            var memoryRequest = request.MemoryRequest ?? defaults.MemoryRequest;
            var memoryLimit = request.MemoryLimit ?? defaults.MemoryLimit;
            if (QuantityRules.RequestExceedsLimit(memoryRequest, memoryLimit))
            {
                errors.Add($"annotation {InjectionAnnotations.MemoryRequest}: '{memoryRequest}' is more than the memory limit '{memoryLimit}'; expected a request no larger than {InjectionAnnotations.MemoryLimit}");
            }

            var listeners = SidecarPorts.Of(request, defaults);
            errors.AddRange(SidecarPorts.Clashes(pod, listeners));
            if (pod.Spec?.HostNetwork == true && !defaults.AllowHostNetwork)
            {
                errors.Add(HostNetworkDenied(listeners.Select(l => l.Port)));
            }
        }

        return request is null || errors.Count > 0
            ? (null, false, "token-injector: " + string.Join("; ", errors))
            : (PodMutator.Mutate(pod, request, defaults), !request.ImpersonatesEveryAudience, null);
    }

    /// <summary>
    /// The denial of a <c>hostNetwork</c> pod when the operator has not allowed them: the sidecar's listeners would be
    /// the node's, usable by everything on it with this pod's identity. It names both ways out, the pod's and the operator's.
    /// </summary>
    private static string HostNetworkDenied(IEnumerable<int> ports) =>
        $"spec.hostNetwork is true: the sidecar's listeners (ports {string.Join(", ", ports)}) would open in the node's network namespace, "
        + "so every pod and process on the node could call Cloud Run with this pod's identity through them, and two such pods on one node would fight over the ports; "
        + $"run the pod without hostNetwork, or ask the cluster's operator to allow it (chart value webhook.allowHostNetwork, flag {WebhookSettings.Options.AllowHostNetwork.Flag})";

    // The models take JSON nulls where the API server never sends them (a null container or port, a mount without a path, an
    // annotation without a value); the mutation reads these, so such a body is refused as not a Pod.
    private static string? ShapeProblem(V1Pod pod)
    {
        if (pod.Metadata?.Annotations?.FirstOrDefault(a => a.Value is null) is { Key: { } key })
        {
            return $"annotation {key} has no value";
        }

        foreach (var container in (pod.Spec?.InitContainers ?? []).Concat(pod.Spec?.Containers ?? []))
        {
            if (container is null)
            {
                return "a container is null";
            }

            if ((container.VolumeMounts ?? []).Any(m => m?.MountPath is null))
            {
                return $"container {container.Name} has a volume mount without a mountPath";
            }

            if ((container.Env ?? []).Any(e => e is null))
            {
                return $"container {container.Name} has a null env entry";
            }

            if ((container.Ports ?? []).Any(p => p is null))
            {
                return $"container {container.Name} has a null port";
            }
        }

        if ((pod.Spec?.Volumes ?? []).Any(v => v is null))
        {
            return "a volume is null";
        }

        return Quantities(pod.Spec).FirstOrDefault(q => q.Value?.ToDouble() < 0) is { Where: { } where }
            ? $"{where} is a negative quantity"
            : null;
    }

    // KubernetesClient never finishes formatting some negative quantities (-1e17 spins forever), and the diff formats
    // every one; the API server refuses negative quantities in a pod anyway, so such a body is refused before that.
    private static IEnumerable<(string Where, ResourceQuantity? Value)> Quantities(V1PodSpec? spec)
    {
        if (spec is null)
        {
            yield break;
        }

        var containers = (spec.InitContainers ?? []).Concat(spec.Containers ?? []).Select(c => (c.Name, c.Resources, c.Env))
            .Concat((spec.EphemeralContainers ?? []).Where(c => c is not null).Select(c => (c.Name, c.Resources, c.Env)));
        foreach (var (name, resources, env) in containers)
        {
            foreach (var quantity in Quantities($"container {name} resources", resources?.Requests, resources?.Limits))
            {
                yield return quantity;
            }

            foreach (var variable in (env ?? []).Where(v => v is not null))
            {
                yield return ($"container {name} env {variable.Name} divisor", variable.ValueFrom?.ResourceFieldRef?.Divisor);
            }
        }

        foreach (var quantity in Quantities("spec.overhead", spec.Overhead).Concat(Quantities("spec.resources", spec.Resources?.Requests, spec.Resources?.Limits)))
        {
            yield return quantity;
        }

        foreach (var volume in spec.Volumes ?? [])
        {
            yield return ($"volume {volume.Name} sizeLimit", volume.EmptyDir?.SizeLimit);
            var claim = volume.Ephemeral?.VolumeClaimTemplate?.Spec?.Resources;
            foreach (var quantity in Quantities($"volume {volume.Name} resources", claim?.Requests, claim?.Limits))
            {
                yield return quantity;
            }

            var items = (volume.DownwardAPI?.Items ?? []).Concat((volume.Projected?.Sources ?? []).SelectMany(source => source?.DownwardAPI?.Items ?? []));
            foreach (var item in items)
            {
                yield return ($"volume {volume.Name} divisor", item?.ResourceFieldRef?.Divisor);
            }
        }
    }

    private static IEnumerable<(string Where, ResourceQuantity? Value)> Quantities(string where, params IDictionary<string, ResourceQuantity>?[] maps) =>
        maps.SelectMany(map => map ?? new Dictionary<string, ResourceQuantity>()).Select(entry => ($"{where} {entry.Key}", (ResourceQuantity?)entry.Value));

    private static JsonNode? ToNode(V1Pod pod) => JsonNode.Parse(KubernetesJson.Serialize(pod));
}
