using System.Text.Json;
using System.Text.Json.Serialization;

namespace TokenInjector.Webhook;

/// <summary>
/// The <c>admission.k8s.io/v1</c> AdmissionReview envelope, with only the fields the webhook reads or writes.
/// KubernetesClient has no model for it (it is not a served resource), so it is declared here.
/// </summary>
internal sealed record AdmissionReview
{
    public const string Version = "admission.k8s.io/v1";

    [JsonPropertyName("apiVersion")]
    public string? ApiVersion { get; init; }

    [JsonPropertyName("kind")]
    public string? Kind { get; init; }

    [JsonPropertyName("request")]
    public AdmissionRequest? Request { get; init; }

    [JsonPropertyName("response")]
    public AdmissionResponse? Response { get; init; }
}

/// <summary>What the API server asks about one object.</summary>
internal sealed record AdmissionRequest
{
    [JsonPropertyName("uid")]
    public string? Uid { get; init; }

    [JsonPropertyName("kind")]
    public GroupVersionKind? Kind { get; init; }

    [JsonPropertyName("operation")]
    public string? Operation { get; init; }

    [JsonPropertyName("namespace")]
    public string? Namespace { get; init; }

    [JsonPropertyName("name")]
    public string? Name { get; init; }

    [JsonPropertyName("dryRun")]
    public bool? DryRun { get; init; }

    [JsonPropertyName("object")]
    public JsonElement? Object { get; init; }
}

/// <summary>The group, version and kind of the object under review.</summary>
internal sealed record GroupVersionKind(
    [property: JsonPropertyName("group")] string? Group,
    [property: JsonPropertyName("version")] string? Version,
    [property: JsonPropertyName("kind")] string? Kind);

/// <summary>The webhook's answer: allowed or not, the patch, the reason and warnings for the user.</summary>
internal sealed record AdmissionResponse
{
    [JsonPropertyName("uid")]
    public required string Uid { get; init; }

    [JsonPropertyName("allowed")]
    public bool Allowed { get; init; }

    [JsonPropertyName("patchType")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? PatchType { get; init; }

    /// <summary>The JSON patch, base64-encoded as the API requires.</summary>
    [JsonPropertyName("patch")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Patch { get; init; }

    [JsonPropertyName("status")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public AdmissionStatus? Status { get; init; }

    [JsonPropertyName("warnings")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? Warnings { get; init; }
}

/// <summary>Why a request was denied, as a <c>metav1.Status</c>.</summary>
internal sealed record AdmissionStatus(
    [property: JsonPropertyName("code")] int Code,
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("reason")] string? Reason = null);
