using System.Globalization;
using System.Text.Json.Nodes;

namespace TokenInjector.Webhook;

/// <summary>
/// Builds an RFC 6902 JSON Patch that turns one JSON document into another, using only <c>add</c>, <c>remove</c>
/// and <c>replace</c>. Objects are diffed key by key; arrays are aligned by element identity (named objects by name),
/// so an element added anywhere is one <c>add</c>, one that moved is a <c>remove</c> and an <c>add</c>, and elements
/// that stayed are patched in place: fields the patcher never saw (newer API fields) are left alone rather than
/// rewritten.
/// </summary>
internal static class JsonPatchDiff
{
    /// <param name="from">The document as it is.</param>
    /// <param name="to">The document as it should be.</param>
    /// <param name="movable">
    /// The name of an element that, when it changed places with others in an array, is the one removed and added
    /// again, rather than the others (the webhook's own container: the others belong to someone else).
    /// </param>
    public static JsonArray Create(JsonNode? from, JsonNode? to, string? movable = null)
    {
        var operations = new JsonArray();
        Diff(from, to, string.Empty, operations, movable);
        return operations;
    }

    /// <summary>Escapes one JSON Pointer reference token (RFC 6901): <c>~</c> as <c>~0</c>, <c>/</c> as <c>~1</c>.</summary>
    public static string Escape(string token) => token.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal);

    private static void Diff(JsonNode? from, JsonNode? to, string path, JsonArray operations, string? movable)
    {
        switch (from, to)
        {
            case (JsonObject a, JsonObject b):
                DiffObjects(a, b, path, operations, movable);
                break;
            case (JsonArray a, JsonArray b):
                DiffArrays(a, b, path, operations, movable);
                break;
            default:
                if (!JsonNode.DeepEquals(from, to))
                {
                    operations.Add(Operation("replace", path, to));
                }

                break;
        }
    }

    private static void DiffObjects(JsonObject from, JsonObject to, string path, JsonArray operations, string? movable)
    {
        foreach (var (key, value) in from)
        {
            if (!to.ContainsKey(key))
            {
                operations.Add(Operation("remove", path + "/" + Escape(key)));
            }
            else
            {
                Diff(value, to[key], path + "/" + Escape(key), operations, movable);
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

    private static void DiffArrays(JsonArray from, JsonArray to, string path, JsonArray operations, string? movable)
    {
        // Elements are aligned by identity (a longest common subsequence): aligned pairs are patched in place, the
        // rest of the source removed and the rest of the target added. Walking both in order, the array being patched
        // is always the target's first j elements followed by the source's remaining ones, so index j is where each
        // operation lands.
        var aligned = Align(from, to, movable);
        int i = 0, j = 0;
        foreach (var (fromIndex, toIndex) in aligned.Append((from.Count, to.Count)))
        {
            for (; i < fromIndex; i++)
            {
                operations.Add(Operation("remove", Index(path, j)));
            }

            for (; j < toIndex; j++)
            {
                operations.Add(Operation("add", Index(path, j), to[j]));
            }

            if (i < from.Count)
            {
                Diff(from[i++], to[j], Index(path, j++), operations, movable);
            }
        }
    }

    // What makes two elements the same thing: the name of a named object (a container, a volume, an env variable),
    // otherwise the whole value. A container whose env changed is then patched in place, while one that moved is
    // removed and added, and never patched member by member into another container.
    private static bool SameIdentity(JsonNode? a, JsonNode? b) =>
        (Name(a), Name(b)) switch
        {
            (string x, string y) => x == y,
            (null, null) => JsonNode.DeepEquals(a, b),
            _ => false,
        };

    private static string? Name(JsonNode? node) =>
        node is JsonObject o && o.TryGetPropertyValue("name", out var name) && name is JsonValue v && v.TryGetValue<string>(out var text) ? text : null;

    // The longest common subsequence by identity, as pairs of indexes (arrays in pods are short: quadratic is fine).
    // Where two alignments are as long (an element swapped places with its neighbour), the movable one is left out.
    private static List<(int From, int To)> Align(JsonArray from, JsonArray to, string? movable)
    {
        var lengths = new int[from.Count + 1, to.Count + 1];
        for (var a = from.Count - 1; a >= 0; a--)
        {
            for (var b = to.Count - 1; b >= 0; b--)
            {
                lengths[a, b] = SameIdentity(from[a], to[b])
                    ? lengths[a + 1, b + 1] + 1
                    : Math.Max(lengths[a + 1, b], lengths[a, b + 1]);
            }
        }

        var pairs = new List<(int, int)>();
        for (int a = 0, b = 0; a < from.Count && b < to.Count;)
        {
            if (SameIdentity(from[a], to[b]) && lengths[a, b] == lengths[a + 1, b + 1] + 1)
            {
                pairs.Add((a++, b++));
            }
            else if (lengths[a + 1, b] > lengths[a, b + 1] || (lengths[a + 1, b] == lengths[a, b + 1] && (movable is null || Name(to[b]) != movable)))
            {
                a++;
            }
            else
            {
                b++;
            }
        }

        return pairs;
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
