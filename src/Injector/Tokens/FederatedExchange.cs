using System.Text.RegularExpressions;
using Google.Apis.Auth.OAuth2.Responses;

namespace TokenInjector.Tokens;

/// <summary>
/// The failures of an <c>external_account</c> fetch's federated half, told apart from IAM's: the subject token that
/// could not be read (<see cref="TokenFetchException.SubjectToken"/>) and the Security Token Service's refusal of the
/// exchange (<see cref="TokenFetchException.StsRejected"/>). Neither heals by itself, so each says what to check. The
/// STS's <c>error</c> code (RFC 6749's vocabulary) is quoted; its <c>error_description</c> is not, as it can quote the
/// subject token's claims. Faults of the STS (429, 5xx, unreachable, time-outs) and IAM's answers are left to
/// <see cref="GoogleIdTokenSource"/>, as for every other endpoint.
/// </summary>
internal static partial class FederatedExchange
{
    public static Func<TokenKey, CancellationToken, Task<string>> Classified(Func<TokenKey, CancellationToken, Task<string>> fetchJwt) =>
        async (key, cancellationToken) =>
        {
            try
            {
                return await fetchJwt(key, cancellationToken);
            }
            catch (TokenResponseException ex) when (ex.StatusCode is { } status && (int)status is >= 400 and < 500 and not 429)
            {
                var code = ex.Error?.Error is { } error && OAuthErrorCode().IsMatch(error) ? ", " + error : string.Empty;
                throw new TokenFetchException(
                    TokenFetchException.StsRejected,
                    $"the Security Token Service refused to exchange the subject token ({(int)status}{code}): check the credential file's audience"
                        + " and subject_token_type, and that the pool's provider trusts the subject token (issuer, audience, expiry)");
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // The messages of file errors name the file, never its content.
                throw new TokenFetchException(TokenFetchException.SubjectToken, "the subject token file could not be read: " + ex.Message);
            }
            catch (Exception ex) when (ex is KeyNotFoundException or Newtonsoft.Json.JsonException)
            {
                throw new TokenFetchException(
                    TokenFetchException.SubjectToken,
                    "the subject token is not JSON with the credential file's credential_source.format.subject_token_field_name");
            }
        };

    [GeneratedRegex("^[a-z_]{1,64}$")]
    private static partial Regex OAuthErrorCode();
}
