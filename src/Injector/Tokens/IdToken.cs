using System.Buffers.Text;
using System.Text.Json;

namespace TokenInjector.Tokens;

/// <summary>
/// A Google-signed OIDC ID token with the claims that drive caching and the audience it was issued for. The token itself is a secret:
/// <see cref="ToString"/> never shows it, and parse errors never quote it.
/// </summary>
internal sealed class IdToken
{
    private IdToken(string value, string? audience, DateTimeOffset issuedAt, DateTimeOffset expiresAt)
    {
        Value = value;
        Audience = audience;
        IssuedAt = issuedAt;
        ExpiresAt = expiresAt;
    }

    public string Value { get; }

    /// <summary>The <c>aud</c> claim when it is a single string (Google's always is), else null.</summary>
    public string? Audience { get; }

    public DateTimeOffset IssuedAt { get; }

    public DateTimeOffset ExpiresAt { get; }

    public TimeSpan Lifetime => ExpiresAt - IssuedAt;

    /// <summary>Reads <c>aud</c>, <c>iat</c> and <c>exp</c> from the JWT payload. The signature is not checked: the
    /// token endpoint is trusted, and the service that receives the token checks it.</summary>
    public static IdToken Parse(string jwt)
    {
        var parts = jwt.Split('.');
        if (parts.Length != 3 || parts[1].Length == 0)
        {
            throw new FormatException("the token source returned something that is not a JWT (expected three dot-separated parts)");
        }

        byte[] payload;
        try
        {
            payload = Base64Url.DecodeFromChars(parts[1]);
        }
        catch (FormatException)
        {
            throw new FormatException("the token source returned a JWT whose payload is not base64url");
        }

        try
        {
            using var claims = JsonDocument.Parse(payload);
            var root = claims.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("exp", out var exp) || !exp.TryGetInt64(out var expSeconds)
                || !root.TryGetProperty("iat", out var iat) || !iat.TryGetInt64(out var iatSeconds)
                || expSeconds <= iatSeconds)
            {
                throw new FormatException("the token source returned a JWT without valid numeric iat and exp claims");
            }

            var audience = root.TryGetProperty("aud", out var aud) && aud.ValueKind == JsonValueKind.String ? aud.GetString() : null;
            return new IdToken(jwt.Trim(), audience, DateTimeOffset.FromUnixTimeSeconds(iatSeconds), DateTimeOffset.FromUnixTimeSeconds(expSeconds));
        }
        catch (JsonException)
        {
            throw new FormatException("the token source returned a JWT whose payload is not JSON");
        }
    }

    public override string ToString() => $"IdToken(iat={IssuedAt:O}, exp={ExpiresAt:O})";
}
