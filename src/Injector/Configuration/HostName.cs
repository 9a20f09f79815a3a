using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace TokenInjector.Configuration;

/// <summary>
/// DNS host names in the one form every part compares, whether they come from <c>--egress-host</c>, a route's upstream,
/// <c>--resolve</c>, an annotation or a request: lower case (names are case-insensitive), internationalized names as punycode (an
/// <c>xn--</c> label must decode, and a Unicode pattern such as <c>bücher.example</c> becomes
/// <c>xn--bcher-kva.example</c>, which is what HTTP clients send), and without the trailing dot of a fully qualified
/// name (<c>svc.run.app.</c> is the same DNS name; TLS server names and Cloud Run audiences never carry the dot).
/// Labels are letters, digits and hyphens (no underscore, no percent-encoding); a name whose last label is all digits
/// is an IP address, which is not a host name here.
/// </summary>
internal static class HostName
{
    private const int MaxLength = 253;

    // Std3 rules: letters, digits and hyphens only, no hyphen at either end of a label. Read-only use is thread-safe.
    private static readonly IdnMapping Idn = new() { UseStd3AsciiRules = true };

    /// <summary>The canonical form of <paramref name="text"/>, or false with what is wrong with it.</summary>
    public static bool TryCanonical(string text, [NotNullWhen(true)] out string? host, out string problem)
    {
        host = null;
        var name = text.EndsWith('.') ? text[..^1] : text;
        if (name.Length == 0 || name.EndsWith('.'))
        {
            problem = "is not a host name";
            return false;
        }

        string ascii;
        try
        {
            ascii = Idn.GetAscii(name.ToLowerInvariant());
            if (ascii.Contains("xn--", StringComparison.Ordinal) && Idn.GetAscii(Idn.GetUnicode(ascii)) != ascii)
            {
                throw new ArgumentException("an xn-- label does not round-trip");
            }
        }
        catch (ArgumentException)
        {
            problem = "is not a DNS host name (dot-separated labels of letters, digits and hyphens, or a valid internationalized name)";
            return false;
        }

        if (ascii.Length > MaxLength)
        {
            problem = $"is {ascii.Length} characters long; a host name has at most {MaxLength}";
            return false;
        }

        if (IsIpAddress(ascii))
        {
            problem = "is an IP address, not a host name";
            return false;
        }

        host = ascii;
        problem = string.Empty;
        return true;
    }

    /// <summary>
    /// An IPv4 address in any form a resolver would connect to (1.2.3.4, 16909060, 0x7f.1), or a name that only looks
    /// like a host: a top-level label that is all digits is never a DNS name.
    /// </summary>
    private static bool IsIpAddress(string asciiName)
    {
        var lastLabel = asciiName.AsSpan(asciiName.LastIndexOf('.') + 1);
        return System.Net.IPAddress.TryParse(asciiName, out _) || !lastLabel.ContainsAnyExceptInRange('0', '9');
    }
}
