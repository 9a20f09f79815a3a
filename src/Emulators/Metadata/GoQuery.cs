using System.Text;

namespace TokenInjector.Emulators.Metadata;

/// <summary>
/// Reads query parameters as the real metadata server does, with Go's <c>net/url</c> (<c>ParseQuery</c> and
/// <c>Values.Get</c>): '&amp;' separates parameters, the first '=' splits name from value, '+' is a space, <c>%XX</c>
/// decodes, and a parameter with a bad escape or a ';' is dropped. A '#' ends the URL. A client that puts an audience
/// in the query without percent-encoding it therefore gets a token for another audience here, as it would on GKE.
/// </summary>
internal static class GoQuery
{
    /// <summary>The value of the first well-formed <paramref name="name"/> parameter; null when there is none.</summary>
    public static string? Get(string? rawQuery, string name)
    {
        if (string.IsNullOrEmpty(rawQuery))
        {
            return null;
        }

        var query = rawQuery.AsSpan(rawQuery.StartsWith('?') ? 1 : 0);
        var fragment = query.IndexOf('#');
        if (fragment >= 0)
        {
            query = query[..fragment];
        }

        foreach (var range in query.Split('&'))
        {
            var pair = query[range];
            if (pair.IsEmpty || pair.Contains(';'))
            {
                // Go 1.17 and later refuse ';' as a separator and drop the whole pair.
                continue;
            }

            var equals = pair.IndexOf('=');
            var key = equals < 0 ? pair : pair[..equals];
            var value = equals < 0 ? [] : pair[(equals + 1)..];
            if (Unescape(key) is { } decodedKey && decodedKey == name && Unescape(value) is { } decodedValue)
            {
                return decodedValue;
            }
        }

        return null;
    }

    // Go's QueryUnescape, on the UTF-8 bytes: '+' is a space, %XX is a byte, and any other '%' is an error (null).
    private static string? Unescape(ReadOnlySpan<char> text)
    {
        var source = Encoding.UTF8.GetBytes(text.ToArray());
        var decoded = new byte[source.Length];
        var length = 0;
        for (var i = 0; i < source.Length; i++)
        {
            if (source[i] == '%')
            {
                if (i + 2 >= source.Length || !char.IsAsciiHexDigit((char)source[i + 1]) || !char.IsAsciiHexDigit((char)source[i + 2]))
                {
                    return null;
                }

                decoded[length++] = (byte)((HexValue(source[i + 1]) << 4) | HexValue(source[i + 2]));
                i += 2;
            }
            else
            {
                decoded[length++] = source[i] == '+' ? (byte)' ' : source[i];
            }
        }

        return Encoding.UTF8.GetString(decoded, 0, length);
    }

    private static int HexValue(byte digit) => digit <= '9' ? digit - '0' : (digit | 0x20) - 'a' + 10;
}
