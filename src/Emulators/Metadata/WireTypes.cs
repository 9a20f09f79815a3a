using System.Text.Json.Serialization;

namespace TokenInjector.Emulators.Metadata;

// The JSON documents the emulator reads and writes, kept together because each is a few lines and they only make
// sense next to MetadataJsonContext. Property names and order follow what Google's servers send.

/// <summary>JOSE header of an identity token.</summary>
internal sealed record JwtHeader(
    [property: JsonPropertyName("alg")] string Algorithm,
    [property: JsonPropertyName("kid")] string KeyId,
    [property: JsonPropertyName("typ")] string Type);

/// <summary>Claims of a Workload Identity ID token: no "google" claim, even with format=full; email only with format=full.</summary>
internal sealed record IdTokenClaims(
    [property: JsonPropertyName("aud")] string Audience,
    [property: JsonPropertyName("azp")] string AuthorizedParty,
    [property: JsonPropertyName("email"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Email,
    [property: JsonPropertyName("email_verified"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] bool? EmailVerified,
    [property: JsonPropertyName("exp")] long ExpiresAt,
    [property: JsonPropertyName("iat")] long IssuedAt,
    [property: JsonPropertyName("iss")] string Issuer,
    [property: JsonPropertyName("sub")] string Subject);

/// <summary>One RSA public key of the JWKS.</summary>
internal sealed record JsonWebKey(
    [property: JsonPropertyName("kty")] string KeyType,
    [property: JsonPropertyName("alg")] string Algorithm,
    [property: JsonPropertyName("use")] string Use,
    [property: JsonPropertyName("kid")] string KeyId,
    [property: JsonPropertyName("n")] string Modulus,
    [property: JsonPropertyName("e")] string Exponent);

/// <summary>The key set served at /oauth2/v3/certs.</summary>
internal sealed record JsonWebKeySet([property: JsonPropertyName("keys")] IReadOnlyList<JsonWebKey> Keys);

/// <summary>Answer of .../token.</summary>
internal sealed record AccessTokenResponse(
    [property: JsonPropertyName("access_token")] string AccessToken,
    [property: JsonPropertyName("expires_in")] int ExpiresIn,
    [property: JsonPropertyName("token_type")] string TokenType);

/// <summary>Answer of .../service-accounts/{account}/?recursive=true.</summary>
internal sealed record ServiceAccountInfo(
    [property: JsonPropertyName("aliases")] IReadOnlyList<string> Aliases,
    [property: JsonPropertyName("email")] string Email,
    [property: JsonPropertyName("scopes")] IReadOnlyList<string> Scopes);

/// <summary>Answer of GET /emulator/stats.</summary>
internal sealed record EmulatorStats(
    [property: JsonPropertyName("identityRequests")] IReadOnlyDictionary<string, int> IdentityRequests,
    [property: JsonPropertyName("totalIdentityRequests")] int TotalIdentityRequests);

/// <summary>Body of POST /emulator/faults (and its answer); a missing member means "off".</summary>
internal sealed record FaultSettings(
    [property: JsonPropertyName("status")] int? Status,
    [property: JsonPropertyName("latencyMs")] long LatencyMs,
    [property: JsonPropertyName("hang")] bool Hang,
    [property: JsonPropertyName("wrongAudience")] bool WrongAudience = false,
    [property: JsonPropertyName("identityRefusal")] string? IdentityRefusal = null);

/// <summary>Answer of POST /emulator/rotate-key.</summary>
internal sealed record RotatedKey([property: JsonPropertyName("kid")] string KeyId);
