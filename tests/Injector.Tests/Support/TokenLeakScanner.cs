using System.Text.RegularExpressions;

namespace TokenInjector.Tests.Support;

/// <summary>
/// Finds anything that looks like a JWT, or one of its segments, in text that must never hold a token: logs,
/// metrics, error bodies. Every JSON object base64url-encodes to a string starting "eyJ", so a header or payload
/// segment is caught even when cut from the rest of the token.
/// </summary>
internal static partial class TokenLeakScanner
{
    /// <summary>How many token-like strings the text holds.</summary>
    public static int CountLeaks(string text) => JwtSegment().Count(text);

    /// <summary>Describes the leaks without repeating them, safe to put in an assertion message.</summary>
    public static string Describe(string text, string where)
    {
        var leaks = JwtSegment().Matches(text);
        return leaks.Count == 0
            ? $"no token in {where}"
            : $"{leaks.Count} token-like strings in {where}, first at offset {leaks[0].Index} ({leaks[0].Length} chars)";
    }

    // "eyJ" + at least 16 more base64url characters: long enough to skip words, short enough for any real segment.
    [GeneratedRegex("eyJ[A-Za-z0-9_-]{16,}")]
    private static partial Regex JwtSegment();
}
