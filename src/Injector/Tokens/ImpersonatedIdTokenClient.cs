using System.Net;
using System.Text.Json.Serialization;
using Google.Apis.Auth.OAuth2;

namespace TokenInjector.Tokens;

/// <summary>
/// IAM Credentials' <c>generateIdToken</c> for <paramref name="serviceAccount"/> (a credentials file's, called beside the
/// <c>generateAccessToken</c> URL the file names, or an <c>--impersonate</c> entry's, <see cref="GenerateIdTokenUrl"/>), authorised by an access token of
/// <paramref name="source"/> (Google.Apis.Auth gets that one), through <paramref name="delegates"/> in order. The
/// library's own <see cref="ImpersonatedCredential"/> is not used for the ID token: it builds the
/// <c>generateIdToken</c> URL from the universe domain and refuses ID tokens altogether when the file names any other
/// <c>service_account_impersonation_url</c>, so it could only be tested against Google itself. IAM's refusal (401, 403,
/// 404: it does not tell a missing account from a missing grant) is <see cref="TokenFetchException.ImpersonationDenied"/>.
/// </summary>
internal sealed class ImpersonatedIdTokenClient(
    ITokenAccess source, Uri generateIdTokenUrl, string serviceAccount, IReadOnlyList<string> delegates, HttpClient http)
{
    // How IAM names a service account as a resource: in the URL after /v1/, and each delegate.
    private const string ResourcePrefix = "projects/-/serviceAccounts/";

    // IAM names each delegate as a resource; a file or a flag may give the bare email.
    private readonly List<string> _delegates = [.. delegates.Select(d => d.StartsWith(ResourcePrefix, StringComparison.Ordinal) ? d : ResourcePrefix + d)];

    /// <summary>The API's <c>generateIdToken</c> for <paramref name="serviceAccount"/>, under <paramref name="iamCredentialsUrl"/>.</summary>
    public static Uri GenerateIdTokenUrl(Uri iamCredentialsUrl, string serviceAccount) =>
        new(iamCredentialsUrl, $"v1/{ResourcePrefix}{Uri.EscapeDataString(serviceAccount)}:generateIdToken");

    /// <exception cref="HttpRequestException">IAM refused (with its status) or could not be reached.</exception>
    /// <exception cref="FormatException">IAM's answer holds no token.</exception>
    public async Task<string> FetchJwtAsync(TokenKey key, CancellationToken cancellationToken)
    {
        var accessToken = await source.GetAccessTokenForRequestAsync(null, cancellationToken);
        using var request = new HttpRequestMessage(HttpMethod.Post, generateIdTokenUrl)
        {
            Content = JsonContent.Create(new GenerateIdTokenRequest(_delegates, key.Audience, IncludeEmail: key.Format != TokenFormat.Standard), ImpersonationJsonContext.Default.GenerateIdTokenRequest),
        };
        request.Headers.Authorization = new("Bearer", accessToken);
        using var response = await http.SendAsync(request, cancellationToken);
        if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden or HttpStatusCode.NotFound)
        {
            var first = _delegates.Count > 0 ? _delegates[0][ResourcePrefix.Length..] : serviceAccount;
            throw new TokenFetchException(
                TokenFetchException.ImpersonationDenied,
                $"IAM refused generateIdToken for {serviceAccount} ({(int)response.StatusCode}): the sidecar's identity needs roles/iam.serviceAccountOpenIdTokenCreator"
                    + (_delegates.Count == 0 ? $" on {serviceAccount}" : $" on {first}, each delegate roles/iam.serviceAccountTokenCreator on the next, the last on {serviceAccount}")
                    + ", and the account must exist");
        }

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
