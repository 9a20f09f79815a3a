using System.Text.Json.Nodes;

namespace TokenInjector.Tests.Charts;

/// <summary>The chart's files as data: values.yaml with YAML 1.2 typing (as Helm reads it) and the schema.</summary>
internal static class ChartFiles
{
    public static JsonObject Values() => YamlJson.Parse(File.ReadAllText(Path.Combine(Helm.Chart, "values.yaml")))!.AsObject();

    public static JsonObject Schema() => JsonNode.Parse(File.ReadAllText(Path.Combine(Helm.Chart, "values.schema.json")))!.AsObject();

    /// <summary>The schema node that describes a dotted values path, or null.</summary>
    public static JsonObject? SchemaOf(string path)
    {
        JsonNode? node = Schema();
        foreach (var part in path.Split('.'))
        {
            node = node?["properties"]?[part];
        }

        return node as JsonObject;
    }
}
