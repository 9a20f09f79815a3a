using System.Text.Json.Serialization;

namespace TokenInjector.Emulators.GoogleApis;

// The JSON documents of Google's OAuth2 token endpoint and of IAM Credentials, as GoogleTokenEndpoint reads and
// writes them. Property names follow Google's.

/// <summary>A service-account key file, as the IAM console hands it out.</summary>
internal sealed record ServiceAccountKeyFile(
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("project_id")] string ProjectId,
    [property: JsonPropertyName("private_key_id")] string PrivateKeyId,
    [property: JsonPropertyName("private_key")] string PrivateKey,
    [property: JsonPropertyName("client_email")] string ClientEmail,
    [property: JsonPropertyName("client_id")] string ClientId,
    [property: JsonPropertyName("auth_uri")] string AuthUri,
    [property: JsonPropertyName("token_uri")] string TokenUri,
    [property: JsonPropertyName("universe_domain")] string UniverseDomain);

/// <summary>An access token answer: of the JWT-bearer grant with a scope, and of the metadata server's .../token.</summary>
internal sealed record AccessTokenResponse(
    [property: JsonPropertyName("access_token")] string AccessToken,
    [property: JsonPropertyName("expires_in")] int ExpiresIn,
    [property: JsonPropertyName("token_type")] string TokenType);

/// <summary>Answer of the JWT-bearer grant with a target_audience.</summary>
internal sealed record IdTokenAnswer([property: JsonPropertyName("id_token")] string IdToken);

/// <summary>An OAuth2 error answer (RFC 6749 section 5.2).</summary>
internal sealed record OAuthError(
    [property: JsonPropertyName("error")] string Error,
    [property: JsonPropertyName("error_description")] string Description);

/// <summary>Body of generateIdToken.</summary>
internal sealed record GenerateIdTokenBody(
    [property: JsonPropertyName("audience")] string? Audience,
    [property: JsonPropertyName("includeEmail")] bool IncludeEmail,
    [property: JsonPropertyName("delegates")] IReadOnlyList<string>? Delegates);

/// <summary>Answer of generateIdToken.</summary>
internal sealed record GenerateIdTokenAnswer([property: JsonPropertyName("token")] string Token);

/// <summary>A Google API error answer.</summary>
internal sealed record IamError([property: JsonPropertyName("error")] IamErrorDetail Error);

/// <summary>The body of <see cref="IamError"/>.</summary>
internal sealed record IamErrorDetail(
    [property: JsonPropertyName("code")] int Code,
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("status")] string Status);

/// <summary>Source-generated serializers of these documents.</summary>
[JsonSerializable(typeof(ServiceAccountKeyFile))]
[JsonSerializable(typeof(AccessTokenResponse))]
[JsonSerializable(typeof(IdTokenAnswer))]
[JsonSerializable(typeof(OAuthError))]
[JsonSerializable(typeof(GenerateIdTokenBody))]
[JsonSerializable(typeof(GenerateIdTokenAnswer))]
[JsonSerializable(typeof(IamError))]
internal sealed partial class GoogleTokenJsonContext : JsonSerializerContext;
