namespace TokenInjector.Configuration;

/// <summary>
/// How a list is written in one string, wherever one is read: the webhook's annotations (its own and the mesh's it
/// adds to) and the <c>TOKEN_INJECTOR_*</c> variable of a repeatable option. Items are separated by commas or newlines
/// (a YAML block scalar), blanks around an item are not part of it, and empty items are dropped.
/// </summary>
internal static class ListSyntax
{
    private static readonly char[] Separators = [',', '\n'];

    public static string[] Split(string? text) =>
        (text ?? string.Empty).Split(Separators, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
