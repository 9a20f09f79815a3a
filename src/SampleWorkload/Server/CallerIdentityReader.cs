using System.Buffers.Text;
using System.Text.Json;
using Google.Protobuf.WellKnownTypes;
using TokenInjector.SampleWorkload.Protos;

namespace TokenInjector.SampleWorkload.Server;

/// <summary>
/// Reads who called from the request's Bearer JWT. Cloud Run's front end has already verified the token and replaced
/// its signature with <c>SIGNATURE_REMOVED_BY_GOOGLE</c>, so only the payload is decoded and nothing is verified.
/// The token itself is never kept, logged or returned: only the claims below leave this class.
/// </summary>
internal static class CallerIdentityReader
{
    public const string ServerlessAuthorizationHeader = "x-serverless-authorization";
    public const string AuthorizationHeader = "authorization";
    public const string RemovedSignature = "SIGNATURE_REMOVED_BY_GOOGLE";

    // Cloud Run checks X-Serverless-Authorization first when both are sent, and leaves Authorization to the app.
    private static readonly string[] HeadersInOrder = [ServerlessAuthorizationHeader, AuthorizationHeader];

    // Unix seconds DateTimeOffset can represent; a claim outside is treated as absent rather than throwing.
    private const long MaxUnixSeconds = 253_402_300_799;

    /// <summary>The caller's claims, or an empty identity when no header carries a decodable Bearer JWT.</summary>
    public static CallerIdentity Read(Func<string, string?> getHeader)
    {
        ArgumentNullException.ThrowIfNull(getHeader);
        foreach (var header in HeadersInOrder)
        {
            var value = getHeader(header);
            if (value is null || !value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            var identity = Decode(value.AsSpan("Bearer ".Length).Trim());
            if (identity is not null)
            {
                identity.Header = header;
                return identity;
            }
        }

        return new CallerIdentity();
    }

    private static CallerIdentity? Decode(ReadOnlySpan<char> token)
    {
        Span<Range> parts = stackalloc Range[4];
        if (token.Split(parts, '.') != 3)
        {
            return null;
        }

        byte[] payload;
        try
        {
            payload = Base64Url.DecodeFromChars(token[parts[1]]);
        }
        catch (FormatException)
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(payload);
            var claims = document.RootElement;
            if (claims.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            return new CallerIdentity
            {
                Email = StringClaim(claims, "email"),
                Audience = AudienceClaim(claims),
                Subject = StringClaim(claims, "sub"),
                IssuedAt = TimeClaim(claims, "iat"),
                ExpiresAt = TimeClaim(claims, "exp"),
                SignatureRemovedByGoogle = token[parts[2]].SequenceEqual(RemovedSignature),
            };
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string StringClaim(JsonElement claims, string name) =>
        claims.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString() ?? string.Empty
            : string.Empty;

    // "aud" may be a string or an array of strings (RFC 7519 section 4.1.3).
    private static string AudienceClaim(JsonElement claims)
    {
        if (!claims.TryGetProperty("aud", out var aud))
        {
            return string.Empty;
        }

        return aud.ValueKind switch
        {
            JsonValueKind.String => aud.GetString() ?? string.Empty,
            JsonValueKind.Array => string.Join(',', aud.EnumerateArray()
                .Where(item => item.ValueKind == JsonValueKind.String)
                .Select(item => item.GetString())),
            _ => string.Empty,
        };
    }

    private static Timestamp? TimeClaim(JsonElement claims, string name) =>
        claims.TryGetProperty(name, out var value)
        && value.ValueKind == JsonValueKind.Number
        && value.TryGetInt64(out var seconds)
        && seconds is >= 0 and <= MaxUnixSeconds
            ? Timestamp.FromDateTimeOffset(DateTimeOffset.FromUnixTimeSeconds(seconds))
            : null;
}
