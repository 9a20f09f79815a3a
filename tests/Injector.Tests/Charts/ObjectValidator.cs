using System.Text.Json.Nodes;
using TokenInjector.Tests.Support;

namespace TokenInjector.Tests.Charts;

/// <summary>
/// Validates Kubernetes objects against the published models of their kinds (Kubernetes, cert-manager, Prometheus
/// Operator; Managed Service for Prometheus from Validation/gmp.ts), with Validation/validate-objects.mjs under node:
/// an unknown or misplaced field, a wrong type, a missing required field or a value off its pattern is an error.
/// </summary>
internal static class ObjectValidator
{
    private static readonly string Sources = RepositoryFiles.PathOf("tests", "Injector.Tests", "Charts", "Validation");

    /// <summary>The errors of each object that has any, keyed by the object's id.</summary>
    public static async Task<IReadOnlyDictionary<string, IReadOnlyList<string>>> ValidateAsync(IEnumerable<(string Id, JsonObject Object)> objects)
    {
        // The script resolves the models from node_modules, so it runs from a directory beside them.
        var directory = Path.Combine(Path.GetDirectoryName(ChartTools.Models)!, "run-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(directory);
        try
        {
            foreach (var file in new[] { "validate-objects.mjs", "gmp.ts" })
            {
                File.Copy(Path.Combine(Sources, file), Path.Combine(directory, file));
            }

            var input = new JsonArray(objects.Select(o => (JsonNode)new JsonObject { ["id"] = o.Id, ["object"] = o.Object.DeepClone() }).ToArray());
            await File.WriteAllTextAsync(Path.Combine(directory, "objects.json"), input.ToJsonString());
            var (exitCode, stdout, stderr) = await ChildProcess.RunAsync("node", [Path.Combine(directory, "validate-objects.mjs"), Path.Combine(directory, "objects.json")]);
            Assert.True(exitCode == 0, "the validator failed: " + stderr);
            return JsonNode.Parse(stdout)!.AsArray().ToDictionary(
                e => e!["id"]!.GetValue<string>(),
                e => (IReadOnlyList<string>)e!["errors"]!.AsArray().Select(m => m!.GetValue<string>()).ToList());
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
