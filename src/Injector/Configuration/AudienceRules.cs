using System.Globalization;

namespace TokenInjector.Configuration;

/// <summary>
/// What counts as an audience, one rule for the socket, the flags, the config file, the environment and the webhook's
/// annotations. Cloud Run audiences are URLs and custom audiences free-form strings: an audience is 1 to
/// <see cref="MaxLength"/> printable ASCII characters (<c>!</c> to <c>~</c>) other than the comma. Every other
/// punctuation character is allowed, because the token sources carry it exactly (percent-encoded in the metadata
/// server's query, JSON elsewhere). The comma is refused because it separates audiences in the
/// <c>token-injector.dev/audiences</c> annotation and in <c>TOKEN_INJECTOR_AUDIENCE</c>, so such an audience could be
/// configured in one place and not in another.
/// </summary>
internal static class AudienceRules
{
    public const int MaxLength = 1024;

    public const string Summary = "an audience is printable ASCII (! to ~) without spaces or commas";

    /// <summary>Returns null when the audience is acceptable, else what is wrong with it (naming the character).</summary>
    public static string? Problem(string? audience)
    {
        if (string.IsNullOrEmpty(audience))
        {
            return "is empty";
        }

        if (audience.Length > MaxLength)
        {
            return $"is {audience.Length} characters long; an audience has at most {MaxLength}";
        }

        for (var i = 0; i < audience.Length; i++)
        {
            var c = audience[i];
            var position = (i + 1).ToString(CultureInfo.InvariantCulture);
            if (c == ',')
            {
                return $"has ',' at position {position}; {Summary} (a comma separates audiences in annotations and environment variables)";
            }

            if (c is < '!' or > '~')
            {
                var name = c == ' ' ? "' ' (a space)" : $"U+{(int)c:X4}";
                return $"has {name} at position {position}, which is not printable ASCII; {Summary}";
            }
        }

        return null;
    }
}
