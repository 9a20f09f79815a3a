using System.Text.Json.Nodes;
using k8s;

namespace TokenInjector.Webhook;

/// <summary>
/// The comparison behind re-invocation: whether what the pod has still holds what the webhook put there. Kubernetes
/// objects are compared as their JSON, the form the API server stores and defaults.
/// </summary>
internal static class JsonCovers
{
    /// <summary>
    /// Whether <paramref name="existing"/> has everything <paramref name="desired"/> sets, with the same values; other
    /// members may be there too (the API server defaults fields after each webhook, and other webhooks add theirs).
    /// </summary>
    public static bool Covers(object? existing, object? desired) =>
        Covers(ToNode(existing), ToNode(desired));

    private static bool Covers(JsonNode? existing, JsonNode? desired) => (existing, desired) switch
    {
        (_, null) => true,
        (JsonObject e, JsonObject d) => d.All(member => Covers(e[member.Key], member.Value)),
        (JsonArray e, JsonArray d) => e.Count == d.Count && d.Select((item, i) => Covers(e[i], item)).All(covered => covered),
        _ => JsonNode.DeepEquals(existing, desired),
    };

    private static JsonNode? ToNode(object? value) => value is null ? null : JsonNode.Parse(KubernetesJson.Serialize(value));
}
