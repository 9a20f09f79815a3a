using System.Globalization;
using System.Text.Json.Nodes;

namespace TokenInjector.Tests.Support;

/// <summary>
/// A small RFC 6902 applier (add, remove, replace, test) written independently of the webhook's diff, so that the
/// tests check the patch by its effect on a document and not by its shape.
/// </summary>
internal static class JsonPatchApplier
{
    public static JsonNode Apply(JsonNode document, JsonArray patch)
    {
        var root = new JsonObject { ["doc"] = document.DeepClone() };
        foreach (var operation in patch)
        {
            var op = operation!["op"]!.GetValue<string>();
            var path = operation["path"]!.GetValue<string>();
            var (parent, token) = Resolve(root, path);
            switch (op)
            {
                case "add":
                    Add(parent, token, operation["value"]?.DeepClone());
                    break;
                case "remove":
                    Remove(parent, token);
                    break;
                case "replace":
                    Remove(parent, token);
                    Add(parent, token, operation["value"]?.DeepClone());
                    break;
                case "test":
                    if (!JsonNode.DeepEquals(Get(parent, token), operation["value"]))
                    {
                        throw new InvalidOperationException($"test failed at {path}");
                    }

                    break;
                default:
                    throw new NotSupportedException($"op {op}");
            }
        }

        return root["doc"]!;
    }

    private static (JsonNode Parent, string Token) Resolve(JsonObject root, string path)
    {
        if (path.Length == 0)
        {
            return (root, "doc");
        }

        if (path[0] != '/')
        {
            throw new InvalidOperationException($"path '{path}' does not start with /");
        }

        var tokens = path[1..].Split('/').Select(t => t.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal)).ToList();
        JsonNode current = root["doc"]!;
        foreach (var token in tokens.Take(tokens.Count - 1))
        {
            current = Get(current, token) ?? throw new InvalidOperationException($"path '{path}' does not exist");
        }

        return (current, tokens[^1]);
    }

    private static JsonNode? Get(JsonNode parent, string token) => parent switch
    {
        JsonObject o => o.TryGetPropertyValue(token, out var value) ? value : throw new InvalidOperationException($"no member '{token}'"),
        JsonArray a => a[Index(a, token, allowEnd: false)],
        _ => throw new InvalidOperationException($"'{token}' indexes a value that is not a container"),
    };

    private static void Add(JsonNode parent, string token, JsonNode? value)
    {
        switch (parent)
        {
            case JsonObject o:
                o[token] = value;
                break;
            case JsonArray a:
                a.Insert(token == "-" ? a.Count : Index(a, token, allowEnd: true), value);
                break;
            default:
                throw new InvalidOperationException("add into a value that is not a container");
        }
    }

    private static void Remove(JsonNode parent, string token)
    {
        switch (parent)
        {
            case JsonObject o:
                if (!o.Remove(token))
                {
                    throw new InvalidOperationException($"no member '{token}' to remove");
                }

                break;
            case JsonArray a:
                a.RemoveAt(Index(a, token, allowEnd: false));
                break;
            default:
                throw new InvalidOperationException("remove from a value that is not a container");
        }
    }

    private static int Index(JsonArray array, string token, bool allowEnd)
    {
        if (!int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var index) || (token.Length > 1 && token[0] == '0'))
        {
            throw new InvalidOperationException($"'{token}' is not an array index");
        }

        if (index > array.Count || (!allowEnd && index == array.Count))
        {
            throw new InvalidOperationException($"index {index} is out of range ({array.Count} elements)");
        }

        return index;
    }
}
