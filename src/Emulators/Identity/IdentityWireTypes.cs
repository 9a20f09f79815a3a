using System.Text.Json.Serialization;

namespace TokenInjector.Emulators.Identity;

// The JSON documents of identity tokens and of the keys that verify them, as IdentityTokenIssuer and SigningKeyRing
// write them. Property names and order follow what Google's servers send.

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

/// <summary>Source-generated serializers of these documents, so the emulator needs no reflection (NativeAOT and trimming friendly).</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(JwtHeader))]
[JsonSerializable(typeof(IdTokenClaims))]
[JsonSerializable(typeof(JsonWebKeySet))]
internal sealed partial class IdentityJsonContext : JsonSerializerContext;
