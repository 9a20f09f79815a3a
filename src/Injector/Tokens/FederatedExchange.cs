using System.Text.RegularExpressions;
using Google.Apis.Auth.OAuth2;
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
            catch (SubjectTokenException ex)
            {
                throw new TokenFetchException(TokenFetchException.SubjectToken, "the subject token could not be obtained: " + WhySubjectTokenFailed(ex.InnerException));
            }
        };

    // The library wraps every failure of the subject token's source; what is said comes from its kind, or, for a file,
    // from the file error's message, which names the file and never its content.
    private static string WhySubjectTokenFailed(Exception? inner) => inner switch
    {
        IOException or UnauthorizedAccessException => "the credential_source file cannot be read: " + inner.Message,
        KeyNotFoundException or Newtonsoft.Json.JsonException or InvalidCastException =>
            "it is not JSON with the field that credential_source.format.subject_token_field_name names",
        TimeoutException => "the credential_source url did not answer in time",
        HttpRequestException => "the credential_source url cannot be reached",
        _ => $"its source failed ({inner?.GetType().Name ?? "no detail"})",
    };

    [GeneratedRegex("^[a-z_]{1,64}$")]
    private static partial Regex OAuthErrorCode();
}
