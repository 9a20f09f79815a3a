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

        if (@namespace == SystemNamespace || (ownNamespace is not null && @namespace == ownNamespace))
        {
            return AdmissionDecision.Skip($"namespace {@namespace} is never injected");
        }

        if (request.Object is not { ValueKind: JsonValueKind.Object } podObject)
        {
            throw new InvalidAdmissionReviewException("request.object is missing or not an object");
        }

        return Decide(podObject, defaults);
    }

    /// <summary>The decision on a pod the webhook acts on.</summary>
    public static AdmissionDecision Decide(JsonElement podObject, SidecarDefaults defaults)
    {
        V1Pod pod;
        try
        {
            pod = KubernetesJson.Deserialize<V1Pod>(podObject.GetRawText());
        }
        // The models' IntOrString converter throws NotSupportedException for a value of neither kind (a probe's port as true).
        catch (Exception ex) when (ex is JsonException or FormatException or InvalidOperationException or NotSupportedException)
        {
            throw new InvalidAdmissionReviewException("request.object is not a Pod: " + ex.Message);
        }

        if (ShapeProblem(pod) is { } problem)
        {
            throw new InvalidAdmissionReviewException("request.object is not a Pod: " + problem);
        }

        var errors = new List<string>();
        var request = InjectionAnnotations.Parse(pod, errors);
        errors.AddRange(PodMutator.Conflicts(pod, request?.NativeSidecar));
        if (request is not null)
        {
            var memoryRequest = request.MemoryRequest ?? defaults.MemoryRequest;
            var memoryLimit = request.MemoryLimit ?? defaults.MemoryLimit;
            if (QuantityRules.TryParse(memoryRequest, out var requested) && QuantityRules.TryParse(memoryLimit, out var limit)
                && requested!.ToDecimal() > limit!.ToDecimal())
            {
                errors.Add($"annotation {InjectionAnnotations.MemoryRequest}: '{memoryRequest}' is more than the memory limit '{memoryLimit}'; expected a request no larger than {InjectionAnnotations.MemoryLimit}");
            }

            var listeners = SidecarPorts.Of(request, defaults);
            errors.AddRange(SidecarPorts.Clashes(pod, listeners));
            if (pod.Spec?.HostNetwork == true && !defaults.AllowHostNetwork)
            {
                errors.Add($"spec.hostNetwork is true: the sidecar's listeners (ports {string.Join(", ", listeners.Select(l => l.Port))}) would open in the node's network namespace, so every pod and process on the node could call Cloud Run with this pod's identity through them, and two such pods on one node would fight over the ports; run the pod without hostNetwork, or ask the cluster's operator to allow it (chart value webhook.allowHostNetwork, flag {WebhookSettings.Options.AllowHostNetwork.Flag})");
            }
        }

        if (request is null || errors.Count > 0)
        {
            return new AdmissionDecision(AdmissionOutcome.Denied, null, "token-injector: " + string.Join("; ", errors), []);
        }

        var result = PodMutator.Mutate(pod, request, defaults);
        var patch = JsonPatchDiff.Create(ToNode(pod), ToNode(result.Pod), movable: PodMutator.SidecarName);
        if (patch.Count == 0)
        {
            return AdmissionDecision.Skip(PodMutator.IsInjected(pod) ? "already injected, sidecar intact" : "no change");
        }

        // On re-invocation the message says what was restored, for the log.
        var restored = result.Restored.Count > 0 ? "restored " + string.Join("; ", result.Restored) : null;
        return new AdmissionDecision(AdmissionOutcome.Mutated, patch, restored, result.Warnings);
    }

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

        return (pod.Spec?.Volumes ?? []).Any(v => v is null) ? "a volume is null" : null;
    }

    private static JsonNode? ToNode(V1Pod pod) => JsonNode.Parse(KubernetesJson.Serialize(pod));
}
