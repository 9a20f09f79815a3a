using System.Text.Json.Serialization;
using Google.Apis.Auth.OAuth2;

namespace TokenInjector.Tokens;

/// <summary>
/// IAM Credentials' <c>generateIdToken</c> for an impersonated service account, called beside the
/// <c>generateAccessToken</c> URL that the credentials file names, with an access token of the file's source
/// credentials (Google.Apis.Auth gets that one). The library's own <see cref="ImpersonatedCredential"/> is not used
/// for the ID token: it builds the <c>generateIdToken</c> URL from the universe domain and refuses ID tokens
/// altogether when the file names any other <c>service_account_impersonation_url</c>, so it could only be tested
/// against Google itself.
/// </summary>
internal sealed class ImpersonatedIdTokenClient(GoogleCredential source, Uri generateIdTokenUrl, IReadOnlyList<string> delegates, HttpClient http)
{
    /// <exception cref="HttpRequestException">IAM refused (with its status) or could not be reached.</exception>
    /// <exception cref="FormatException">IAM's answer holds no token.</exception>
    public async Task<string> FetchJwtAsync(TokenKey key, CancellationToken cancellationToken)
    {
        var accessToken = await ((ITokenAccess)source).GetAccessTokenForRequestAsync(null, cancellationToken);
        using var request = new HttpRequestMessage(HttpMethod.Post, generateIdTokenUrl)
        {
            Content = JsonContent.Create(new GenerateIdTokenRequest(delegates, key.Audience, IncludeEmail: key.Format != TokenFormat.Standard), ImpersonationJsonContext.Default.GenerateIdTokenRequest),
        };
        request.Headers.Authorization = new("Bearer", accessToken);
        using var response = await http.SendAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            // The body is not quoted: error bodies of token endpoints are not ours to log.
            throw new HttpRequestException($"generateIdToken answered {(int)response.StatusCode}", null, response.StatusCode);
        }

        try
        {
            var answer = await response.Content.ReadFromJsonAsync(ImpersonationJsonContext.Default.GenerateIdTokenResponse, cancellationToken);
            return answer?.Token is { Length: > 0 } token ? token : throw new FormatException("generateIdToken answered without a token");
        }
        catch (System.Text.Json.JsonException)
        {
            throw new FormatException("generateIdToken's answer is not JSON");
        }
    }
}

/// <summary>Body of <c>generateIdToken</c>.</summary>
internal sealed record GenerateIdTokenRequest(
    [property: JsonPropertyName("delegates")] IReadOnlyList<string> Delegates,
    [property: JsonPropertyName("audience")] string Audience,
    [property: JsonPropertyName("includeEmail")] bool IncludeEmail);

/// <summary>Answer of <c>generateIdToken</c>.</summary>
internal sealed record GenerateIdTokenResponse([property: JsonPropertyName("token")] string? Token);

[JsonSerializable(typeof(GenerateIdTokenRequest))]
[JsonSerializable(typeof(GenerateIdTokenResponse))]
internal sealed partial class ImpersonationJsonContext : JsonSerializerContext;
