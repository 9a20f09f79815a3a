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
