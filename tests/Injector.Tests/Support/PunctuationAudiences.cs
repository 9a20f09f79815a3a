using System.Buffers.Text;
using System.Net;
using System.Text;
using System.Text.Json;

namespace TokenInjector.Tests.Support;

/// <summary>
/// The audience table of issue 12: every printable ASCII punctuation character, inside an audience, at its end and at
/// its start. Each must be served with exactly that <c>aud</c>, or refused naming the character, wherever an audience
/// enters the sidecar (the socket, flags, routes, annotations) and whatever the token source.
/// </summary>
internal static class PunctuationAudiences
{
    /// <summary>The one character the audience rule refuses (it separates audiences in annotations and environment variables).</summary>
    public const char Refused = ',';

    public static IReadOnlyList<char> Characters { get; } =
        [.. Enumerable.Range('!', '~' - '!' + 1).Select(c => (char)c).Where(c => !char.IsAsciiLetterOrDigit(c))];

    /// <summary>Two audiences per character: <c>https://y.run.app&amp;foo=1&amp;</c> and <c>&amp;abc</c> for '&amp;'.</summary>
    public static IEnumerable<(char Character, string Audience)> All =>
        Characters.SelectMany(c => new[] { (c, $"https://y.run.app{c}foo=1{c}"), (c, $"{c}abc") });

    public static IEnumerable<(char Character, string Audience)> Accepted => All.Where(a => a.Character != Refused);

    public static IEnumerable<(char Character, string Audience)> Refusals => All.Where(a => a.Character == Refused);

    /// <summary>The message part that names a refused character, as every validator words it.</summary>
    public static string Naming(char c) => $"'{c}'";

    /// <summary>The <c>aud</c> claim of a JWT (the signature is not checked here).</summary>
    public static string? AudienceOf(string jwt)
    {
        using var claims = JsonDocument.Parse(Base64Url.DecodeFromChars(jwt.Split('.')[1]));
        return claims.RootElement.TryGetProperty("aud", out var aud) ? aud.GetString() : null;
    }

    /// <summary>
    /// Asks a token API (<paramref name="getToken"/>: audience → answer) for every audience of the table; returns the
    /// rows that went wrong (asked / answer / aud), empty when each was served exactly or refused naming the character.
    /// </summary>
    public static async Task<string> WrongAnswersAsync(Func<string, Task<HttpResponseMessage>> getToken)
    {
        var wrong = new StringBuilder();
        foreach (var (character, audience) in All)
        {
            using var response = await getToken(audience);
            var body = (await response.Content.ReadAsStringAsync()).Trim();
            var ok = response.StatusCode == HttpStatusCode.OK;
            if (character == Refused ? response.StatusCode != HttpStatusCode.BadRequest || !body.Contains(Naming(character), StringComparison.Ordinal)
                : !ok || AudienceOf(body) != audience)
            {
                // A token is never quoted, only its aud.
                wrong.AppendLine($"{audience} / {(int)response.StatusCode} {(ok ? string.Empty : body)} / {(ok ? AudienceOf(body) : "(no token)")}");
            }
        }

        return wrong.ToString();
    }
}
