using System.Buffers.Text;
using System.Globalization;
using System.Text.Json;

namespace TokenInjector.Demo.Observing;

/// <summary>
/// The claims of an ID token that the demo shows instead of the token itself: a JWT is a bearer credential, so
/// neither it nor its signature is ever printed, only what its payload says.
/// </summary>
internal sealed record TokenClaims(string? Audience, string? Email, string? Subject, string? Issuer, DateTimeOffset? IssuedAt, DateTimeOffset? ExpiresAt)
{
    /// <summary>Decodes the payload (no signature check: the Cloud Run emulator does that); null when it is not a JWT.</summary>
    public static TokenClaims? FromJwt(string jwt)
    {
        ArgumentNullException.ThrowIfNull(jwt);
        var parts = jwt.Trim().Split('.');
        if (parts.Length != 3)
        {
            return null;
        }

        try
        {
            using var payload = JsonDocument.Parse(Base64Url.DecodeFromChars(parts[1]));
            var root = payload.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            return new TokenClaims(
                ReadAudience(root), ReadString(root, "email"), ReadString(root, "sub"), ReadString(root, "iss"), ReadTime(root, "iat"), ReadTime(root, "exp"));
        }
        catch (Exception ex) when (ex is FormatException or JsonException)
        {
            return null;
        }
    }

    /// <summary>One line for the live view, e.g. <c>aud=https://x email=a@b iat=12:00:00Z exp=12:00:20Z (20 s)</c>.</summary>
    public string Describe()
    {
        var lifetime = IssuedAt is { } iat && ExpiresAt is { } exp
            ? string.Create(CultureInfo.InvariantCulture, $" ({(exp - iat).TotalSeconds:0} s)")
            : string.Empty;
        return $"aud={Audience ?? "-"} email={Email ?? "-"} iss={Issuer ?? "-"} iat={Clock(IssuedAt)} exp={Clock(ExpiresAt)}{lifetime}";
    }

    public static string Clock(DateTimeOffset? time) =>
        time is { } t ? t.UtcDateTime.ToString("HH:mm:ss", CultureInfo.InvariantCulture) + "Z" : "-";

    private static string? ReadAudience(JsonElement root) =>
        root.TryGetProperty("aud", out var aud)
            ? aud.ValueKind switch
            {
                JsonValueKind.String => aud.GetString(),
                JsonValueKind.Array => string.Join(',', aud.EnumerateArray().Select(a => a.ToString())),
                _ => null,
            }
            : null;

    private static string? ReadString(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static DateTimeOffset? ReadTime(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var seconds)
            ? DateTimeOffset.FromUnixTimeSeconds(seconds)
            : null;
}
