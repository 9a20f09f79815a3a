namespace TokenInjector.Emulators.Metadata;

/// <summary>
/// Reads query parameters the way the metadata server tolerates them. Google.Apis.Auth builds
/// "?audience=https://x.run.app&amp;format=full" without URL-encoding the audience, so a strict parser would
/// mangle audiences; here a value runs from "name=" to the next '&amp;' and is percent-decoded only if it has a '%'.
/// </summary>
internal static class LenientQuery
{
    /// <summary>The value of the first <paramref name="name"/> parameter; null when absent.</summary>
    public static string? Get(string? rawQuery, string name)
    {
        if (string.IsNullOrEmpty(rawQuery))
        {
            return null;
        }

        var query = rawQuery.StartsWith('?') ? rawQuery[1..] : rawQuery;
        foreach (var part in query.Split('&'))
        {
            if (part.Length > name.Length && part[name.Length] == '=' && part.StartsWith(name, StringComparison.Ordinal))
            {
                return Decode(part[(name.Length + 1)..]);
            }

            if (part == name)
            {
                return string.Empty;
            }
        }

        return null;
    }

    // Malformed escapes are left as they are, which is as lenient as the real server.
    private static string Decode(string value) =>
        value.Contains('%', StringComparison.Ordinal) ? Uri.UnescapeDataString(value) : value;
}
