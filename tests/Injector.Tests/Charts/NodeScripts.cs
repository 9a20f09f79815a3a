using System.Text.Json.Nodes;
using TokenInjector.Tests.Support;

namespace TokenInjector.Tests.Charts;

/// <summary>
/// Runs a script of Validation/ under node beside the npm packages that scripts/lib/chart-tools.sh installs from
/// Validation/package.json (ESM resolves packages from the script's own directory, so the script is copied next to
/// them): the input as a JSON file named by the first argument, the output read as JSON from stdout.
/// </summary>
internal static class NodeScripts
{
    private static readonly string Sources = RepositoryFiles.PathOf("tests", "Injector.Tests", "Charts", "Validation");

    public static async Task<JsonNode> RunAsync(IReadOnlyList<string> files, JsonNode input)
    {
        var directory = Path.Combine(Path.GetDirectoryName(ChartTools.Models)!, "run-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(directory);
        try
        {
            foreach (var file in files)
            {
                File.Copy(Path.Combine(Sources, file), Path.Combine(directory, file));
            }

            await File.WriteAllTextAsync(Path.Combine(directory, "input.json"), input.ToJsonString());
            var (exitCode, stdout, stderr) = await ChildProcess.RunAsync("node", [Path.Combine(directory, files[0]), Path.Combine(directory, "input.json")]);
            Assert.True(exitCode == 0, $"node {files[0]} failed: {stderr}");
            return JsonNode.Parse(stdout)!;
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
