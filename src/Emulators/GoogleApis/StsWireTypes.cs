using System.Text.Json.Serialization;

namespace TokenInjector.Emulators.GoogleApis;

// The JSON documents of the Security Token Service and of the subject tokens its provider trusts, as
// SecurityTokenService reads and writes them. Property names follow Google's and RFC 8693's.

/// <summary>A successful token exchange (RFC 8693 section 2.2.1, as sts.googleapis.com answers it).</summary>
internal sealed record StsTokenAnswer(
    [property: JsonPropertyName("access_token")] string AccessToken,
    [property: JsonPropertyName("issued_token_type")] string IssuedTokenType,
    [property: JsonPropertyName("token_type")] string TokenType,
    [property: JsonPropertyName("expires_in")] long ExpiresIn);

/// <summary>The claims of a subject token (a Kubernetes service-account token, as a cluster's issuer mints it).</summary>
internal sealed record SubjectTokenClaims(
    [property: JsonPropertyName("aud")] string? Audience,
    [property: JsonPropertyName("exp")] long ExpiresAt,
    [property: JsonPropertyName("iat")] long IssuedAt,
    [property: JsonPropertyName("iss")] string? Issuer,
    [property: JsonPropertyName("sub")] string? Subject);

/// <summary>A URL subject token's JSON answer, in the shape of Azure's instance metadata service.</summary>
internal sealed record SubjectTokenAnswer([property: JsonPropertyName("access_token")] string AccessToken);

/// <summary>Source-generated serializers of these documents.</summary>
[JsonSerializable(typeof(StsTokenAnswer))]
[JsonSerializable(typeof(SubjectTokenClaims))]
[JsonSerializable(typeof(SubjectTokenAnswer))]
internal sealed partial class StsJsonContext : JsonSerializerContext;
