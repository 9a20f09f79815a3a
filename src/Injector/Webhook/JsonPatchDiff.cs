using System.Globalization;
using System.Text.Json.Nodes;

namespace TokenInjector.Webhook;

/// <summary>
/// Builds an RFC 6902 JSON Patch that turns one JSON document into another, using only <c>add</c>, <c>remove</c>
/// and <c>replace</c>. Objects are diffed key by key and arrays element by element after their common prefix and
/// suffix, so an element added at either end (or in the middle) is one <c>add</c>, and elements that did not move
/// are patched in place: fields the patcher never saw (newer API fields) are left alone rather than rewritten.
/// </summary>
internal static class JsonPatchDiff
{
    public static JsonArray Create(JsonNode? from, JsonNode? to)
    {
        var operations = new JsonArray();
        Diff(from, to, string.Empty, operations);
        return operations;
    }

    /// <summary>Escapes one JSON Pointer reference token (RFC 6901): <c>~</c> as <c>~0</c>, <c>/</c> as <c>~1</c>.</summary>
    public static string Escape(string token) => token.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal);

    private static void Diff(JsonNode? from, JsonNode? to, string path, JsonArray operations)
    {
        switch (from, to)
        {
            case (JsonObject a, JsonObject b):
                DiffObjects(a, b, path, operations);
                break;
            case (JsonArray a, JsonArray b):
                DiffArrays(a, b, path, operations);
                break;
            default:
                if (!JsonNode.DeepEquals(from, to))
                {
                    operations.Add(Operation("replace", path, to));
                }

                break;
        }
    }

    private static void DiffObjects(JsonObject from, JsonObject to, string path, JsonArray operations)
    {
        foreach (var (key, value) in from)
        {
            if (!to.ContainsKey(key))
            {
                operations.Add(Operation("remove", path + "/" + Escape(key)));
            }
            else
            {
                Diff(value, to[key], path + "/" + Escape(key), operations);
            }
        }

        foreach (var (key, value) in to)
        {
            if (!from.ContainsKey(key))
            {
                operations.Add(Operation("add", path + "/" + Escape(key), value));
            }
        }
    }

    private static void DiffArrays(JsonArray from, JsonArray to, string path, JsonArray operations)
    {
        var prefix = 0;
        while (prefix < from.Count && prefix < to.Count && JsonNode.DeepEquals(from[prefix], to[prefix]))
        {
            prefix++;
        }

        var suffix = 0;
        while (suffix < from.Count - prefix && suffix < to.Count - prefix
            && JsonNode.DeepEquals(from[from.Count - 1 - suffix], to[to.Count - 1 - suffix]))
        {
            suffix++;
        }

        var fromMiddle = from.Count - prefix - suffix;
        var toMiddle = to.Count - prefix - suffix;
        var common = Math.Min(fromMiddle, toMiddle);

        // Patched in place first (indexes are still those of the original), then the surplus added or removed:
        // adds in increasing order so each lands where the target has it, removes from the back so none shifts.
        for (var i = 0; i < common; i++)
        {
            Diff(from[prefix + i], to[prefix + i], Index(path, prefix + i), operations);
        }

        for (var i = common; i < toMiddle; i++)
        {
            operations.Add(Operation("add", Index(path, prefix + i), to[prefix + i]));
        }

        for (var i = fromMiddle - 1; i >= common; i--)
        {
            operations.Add(Operation("remove", Index(path, prefix + i)));
        }
    }

    private static string Index(string path, int index) => path + "/" + index.ToString(CultureInfo.InvariantCulture);

    private static JsonNode Operation(string op, string path, JsonNode? value = null)
    {
        var operation = new JsonObject { ["op"] = op, ["path"] = path };
        if (op != "remove")
        {
            operation["value"] = value?.DeepClone();
        }

        return operation;
    }
}
