using System.Buffers;
using System.Text.Json;

namespace TokenInjector.Webhook;

/// <summary>
/// The validating check on workloads, as a pure function. The mutating webhook sees pods only, so for a Deployment or
/// a CronJob its denials and warnings land in a controller's events, where nobody applying the workload looks. Here the
/// pod template of a workload being created or updated, when it asks for injection, is shaped as the pod its
/// controller will create (the template's metadata and spec, in the workload's namespace) and judged by
/// <see cref="PodAdmission.Validate"/>, the same rules as the pod: the denial carries the pod's message word for word.
/// Only the object as applied now is judged, with one exception: an UPDATE that leaves a template as it was (a scale,
/// a label, a finalizer removed from an object being deleted, the deployment controller scaling an old ReplicaSet
/// down in a rollout that fixes it) is not denied for it; the reason is then a warning.
/// </summary>
internal static class WorkloadAdmission
{
    // Where each kind keeps its pod template: a CronJob's sits inside the template of the Jobs it creates.
    private static readonly Dictionary<(string Group, string Kind), string[]> TemplatePaths = new()
    {
        [("apps", "Deployment")] = ["spec", "template"],
        [("apps", "StatefulSet")] = ["spec", "template"],
        [("apps", "DaemonSet")] = ["spec", "template"],
        [("apps", "ReplicaSet")] = ["spec", "template"],
        [("batch", "Job")] = ["spec", "template"],
        [("batch", "CronJob")] = ["spec", "jobTemplate", "spec", "template"],
    };

    /// <param name="request">The request as the API server sent it.</param>
    /// <param name="ownNamespace">The webhook's own namespace, never injected (so never judged either); null when unknown.</param>
    /// <param name="defaults">The sidecar's defaults, which the port checks read.</param>
    /// <returns>
    /// Skipped (not a workload this check judges, or a template that does not ask for injection), Denied with the pod's
    /// message, or Allowed with the pod's warnings and the service account whose Workload Identity binding to check.
    /// </returns>
    public static AdmissionDecision Decide(AdmissionRequest request, string? ownNamespace, SidecarDefaults defaults)
    {
        if (request.Kind is not { Version: "v1" } kind || !TemplatePaths.TryGetValue((kind.Group ?? string.Empty, kind.Kind ?? string.Empty), out var path))
        {
            return AdmissionDecision.Skip($"not a workload with a pod template ({request.Kind?.Group}/{request.Kind?.Version} {request.Kind?.Kind})");
        }

        if (request.Operation is not ("CREATE" or "UPDATE"))
        {
            return AdmissionDecision.Skip($"operation {request.Operation} (only CREATE and UPDATE are checked)");
        }

        var @namespace = request.Namespace ?? string.Empty;
        if (PodAdmission.NeverInjected(@namespace, ownNamespace))
        {
            return AdmissionDecision.Skip($"namespace {@namespace} is never injected");
        }

        if (request.Object is not { ValueKind: JsonValueKind.Object } workload)
        {
            throw new InvalidAdmissionReviewException("request.object is missing or not an object");
        }

        var where = "request.object." + string.Join('.', path);
        var template = Template(workload, path) ?? throw new InvalidAdmissionReviewException($"{where} is missing or not an object");
        if (!AsksForInjection(template))
        {
            return AdmissionDecision.Skip($"its pod template has no label {InjectionAnnotations.InjectLabel}: \"true\"");
        }

        JsonElement pod;
        try
        {
            pod = AsPod(template, @namespace);
        }
        // A string with half a surrogate pair (valid JSON, never from the API server) cannot be written again.
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException)
        {
            throw new InvalidAdmissionReviewException($"{where} is not a pod template: {ex.Message}");
        }

        var decision = PodAdmission.Validate(pod, defaults, where) with { ServiceAccountName = PodAdmission.ServiceAccountName(pod) };
        if (decision.Outcome == AdmissionOutcome.Denied && request.Operation == "UPDATE"
            && request.OldObject is { ValueKind: JsonValueKind.Object } old && Template(old, path) is { } before && JsonElement.DeepEquals(before, template))
        {
            return decision with { Outcome = AdmissionOutcome.Allowed, Message = null, Warnings = [decision.Message!] };
        }

        return decision;
    }

    private static JsonElement? Template(JsonElement workload, string[] path)
    {
        JsonElement? node = workload;
        foreach (var step in path)
        {
            node = node is { } parent ? Child(parent, step) : null;
        }

        return node;
    }

    private static JsonElement? Child(JsonElement parent, string name) =>
        parent.TryGetProperty(name, out var child) && child.ValueKind == JsonValueKind.Object ? child : null;

    // The label the mutating webhook's objectSelector matches on the pod, read on the template its pods get their labels from.
    private static bool AsksForInjection(JsonElement template) =>
        Child(template, "metadata") is { } metadata && Child(metadata, "labels") is { } labels
        && labels.TryGetProperty(InjectionAnnotations.InjectLabel, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() == "true";

    // A template has no name or namespace of its own: its pods get the workload's namespace, and a generated name that
    // no rule reads. Written straight from the request's JSON, with no tree of its own: a template may be megabytes.
    private static JsonElement AsPod(JsonElement template, string @namespace)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("apiVersion", "v1");
            writer.WriteString("kind", "Pod");
            writer.WriteStartObject("metadata");
            foreach (var property in template.GetProperty("metadata").EnumerateObject().Where(p => p.Name != "namespace"))
            {
                property.WriteTo(writer);
            }

            writer.WriteString("namespace", @namespace);
            writer.WriteEndObject();
            if (template.TryGetProperty("spec", out var spec))
            {
                writer.WritePropertyName("spec");
                spec.WriteTo(writer);
            }

            writer.WriteEndObject();
        }

        using var document = JsonDocument.Parse(buffer.WrittenMemory);
        return document.RootElement.Clone();
    }
}
