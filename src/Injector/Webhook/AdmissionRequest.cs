using System.Text.Json;
using System.Text.Json.Serialization;

namespace TokenInjector.Webhook;

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

    [JsonPropertyName("object")]
    public JsonElement? Object { get; init; }

    /// <summary>The object before an UPDATE.</summary>
    [JsonPropertyName("oldObject")]
    public JsonElement? OldObject { get; init; }
}

/// <summary>The group, version and kind of the object under review.</summary>
internal sealed record GroupVersionKind(
    [property: JsonPropertyName("group")] string? Group,
    [property: JsonPropertyName("version")] string? Version,
    [property: JsonPropertyName("kind")] string? Kind);
