using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace TokenInjector.Emulators.CloudRun;

/// <summary>
/// Checks a bearer token the way Cloud Run's front end does: an RS256 Google ID token, signed by a key of the
/// JWKS, issued by <c>https://accounts.google.com</c>, not expired, for this service's audience, and, when an
/// invoker list is configured, for one of its emails. In IAP mode the audience is IAP's alone and the token must carry
/// <c>email</c> (checked after the audience). The checks run in that order, so the reported reason is the
/// first thing wrong with the token.
/// </summary>
internal sealed class IdTokenValidator
{
    /// <summary>What the real front end puts in place of the signature before handing the token to the container.</summary>
    public const string RemovedSignature = "SIGNATURE_REMOVED_BY_GOOGLE";

    private const string GoogleIssuer = "https://accounts.google.com";

    private readonly JwksKeyCache _keys;
    private readonly TimeProvider _time;
    private readonly TimeSpan _clockSkew;
    private readonly HashSet<string> _audiences;
    private readonly HashSet<string> _invokers;
    private readonly bool _requiresEmail;

    public IdTokenValidator(CloudRunEmulatorOptions options, JwksKeyCache keys)
    {
        _keys = keys;
        _time = options.Time;
        _clockSkew = options.ClockSkew;

        // Cloud Run accepts the service URL with or without the trailing slash; custom audiences only verbatim.
        var serviceUrl = options.ServiceUrl.TrimEnd('/');
        _audiences = options.IapAudience is { } iapAudience
            ? new HashSet<string>(StringComparer.Ordinal) { iapAudience }
            : new HashSet<string>(options.CustomAudiences, StringComparer.Ordinal) { serviceUrl, serviceUrl + "/" };
        _requiresEmail = options.IapAudience is not null;
        _invokers = new HashSet<string>(options.Invokers, StringComparer.OrdinalIgnoreCase);
    }

    public async ValueTask<TokenCheckResult> ValidateAsync(string token, CancellationToken cancellationToken)
    {
        var parts = token.Split('.');
        if (parts.Length != 3)
        {
            // ya29.… access tokens are the usual mistake (a client sending what the metadata server's /token gives).
            return TokenCheckResult.Reject(token.StartsWith("ya29.", StringComparison.Ordinal)
                ? RejectionReasons.AccessToken
                : RejectionReasons.Malformed);
        }

        JsonDocument header, payload;
        byte[] signature;
        try
        {
            header = JsonDocument.Parse(Base64Url.DecodeFromChars(parts[0]));
            payload = JsonDocument.Parse(Base64Url.DecodeFromChars(parts[1]));
            signature = Base64Url.DecodeFromChars(parts[2]);
        }
        catch (Exception ex) when (ex is FormatException or JsonException)
        {
            return TokenCheckResult.Reject(RejectionReasons.Malformed);
        }

        TokenCaller caller;
        using (header)
        using (payload)
        {
            if (header.RootElement.ValueKind != JsonValueKind.Object || payload.RootElement.ValueKind != JsonValueKind.Object)
            {
                return TokenCheckResult.Reject(RejectionReasons.Malformed);
            }

            if (GetString(header.RootElement, "alg") != "RS256")
            {
                return TokenCheckResult.Reject(RejectionReasons.UnsupportedAlgorithm);
            }

            if (GetString(header.RootElement, "kid") is not { } kid)
            {
                return TokenCheckResult.Reject(RejectionReasons.Malformed);
            }

            var key = await _keys.GetKeyAsync(kid, cancellationToken);
            if (key is null)
            {
                return TokenCheckResult.Reject(RejectionReasons.UnknownKey);
            }

            var signedPart = Encoding.ASCII.GetBytes(string.Concat(parts[0], ".", parts[1]));
            if (!key.VerifyData(signedPart, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1))
            {
                return TokenCheckResult.Reject(RejectionReasons.BadSignature);
            }

            var claims = payload.RootElement;
            if (GetString(claims, "iss") != GoogleIssuer)
            {
                return TokenCheckResult.Reject(RejectionReasons.WrongIssuer);
            }

            if (!claims.TryGetProperty("exp", out var exp)
                || exp.ValueKind != JsonValueKind.Number
                || DateTimeOffset.FromUnixTimeSeconds((long)exp.GetDouble()) + _clockSkew <= _time.GetUtcNow())
            {
                return TokenCheckResult.Reject(RejectionReasons.Expired);
            }

            if (!HasAcceptedAudience(claims))
            {
                return TokenCheckResult.Reject(RejectionReasons.WrongAudience);
            }

            if (_requiresEmail && GetString(claims, "email") is null)
            {
                return TokenCheckResult.Reject(RejectionReasons.MissingEmail);
            }

            if (_invokers.Count > 0 && (GetString(claims, "email") is not { } email || !_invokers.Contains(email)))
            {
                return TokenCheckResult.Reject(RejectionReasons.NotInvoker);
            }

            var audience = claims.GetProperty("aud") is { ValueKind: JsonValueKind.Array } list ? list[0].GetString() : GetString(claims, "aud");
            caller = new TokenCaller(audience ?? string.Empty, GetString(claims, "sub") ?? string.Empty, GetString(claims, "email"));
        }

        var payloadHash = Convert.ToHexString(SHA256.HashData(Encoding.ASCII.GetBytes(parts[1])));
        return new TokenCheckResult(null, string.Concat(parts[0], ".", parts[1], ".", RemovedSignature), payloadHash, caller);
    }

    private bool HasAcceptedAudience(JsonElement claims)
    {
        if (!claims.TryGetProperty("aud", out var aud))
        {
            return false;
        }

        // Google ID tokens carry one audience as a string; a JWT may also carry a list.
        return aud.ValueKind switch
        {
            JsonValueKind.String => _audiences.Contains(aud.GetString()!),
            JsonValueKind.Array => aud.EnumerateArray().Any(a => a.ValueKind == JsonValueKind.String && _audiences.Contains(a.GetString()!)),
            _ => false,
        };
    }

    private static string? GetString(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
