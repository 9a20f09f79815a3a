using System.Text.Json.Serialization;

namespace TokenInjector.Emulators.Metadata;

// The JSON documents the metadata server and its control API read and write, kept together because each is a few
// lines and they only make sense next to MetadataJsonContext. Property names and order follow what Google's servers
// send. The ID token's and the JWKS's documents are Identity's, the access token's GoogleApis'.

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
