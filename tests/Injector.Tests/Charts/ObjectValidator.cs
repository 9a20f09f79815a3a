using System.Text.Json.Nodes;

namespace TokenInjector.Tests.Charts;

/// <summary>
/// Validates Kubernetes objects against the published models of their kinds (Kubernetes, cert-manager, Prometheus
/// Operator; Managed Service for Prometheus from Validation/gmp.ts), with Validation/validate-objects.mjs under node:
/// an unknown or misplaced field, a wrong type, a missing required field or a value off its pattern is an error.
/// </summary>
internal static class ObjectValidator
{
    /// <summary>The errors of each object that has any, keyed by the object's id.</summary>
    public static async Task<IReadOnlyDictionary<string, IReadOnlyList<string>>> ValidateAsync(IEnumerable<(string Id, JsonObject Object)> objects)
    {
        var input = new JsonArray(objects.Select(o => (JsonNode)new JsonObject { ["id"] = o.Id, ["object"] = o.Object.DeepClone() }).ToArray());
        var output = await NodeScripts.RunAsync(["validate-objects.mjs", "gmp.ts"], input);
        return output.AsArray().ToDictionary(
            e => e!["id"]!.GetValue<string>(),
            e => (IReadOnlyList<string>)e!["errors"]!.AsArray().Select(m => m!.GetValue<string>()).ToList());
    }
}
