using System.Net;
using Google.Apis.Auth.OAuth2;
using Google.Apis.Auth.OAuth2.Responses;
using Google.Apis.Http;

namespace TokenInjector.Tokens;

/// <summary>
/// Fetches ID tokens through Google.Apis.Auth: <see cref="ComputeCredential"/> for the GKE metadata server
/// (Workload Identity; the library honours <c>GCE_METADATA_HOST</c>) or Application Default Credentials.
/// The library's own retries are switched off and every request gets a time limit, so that retry timing is
/// decided in one place (<see cref="AudienceEntry"/>) and a hung metadata server costs one bounded request.
/// </summary>
internal sealed class GoogleIdTokenSource(Func<CancellationToken, Task<IOidcTokenProvider>> createProvider) : IIdTokenSource
{
    private IOidcTokenProvider? _provider;

    /// <summary>
    /// The GKE metadata server at <c>GCE_METADATA_HOST</c> (else 169.254.169.254). The address must come from that
    /// variable: the library reads the identity endpoint's raw-JWT answer only when the request went to the URL it
    /// derives from it.
    /// </summary>
    public static GoogleIdTokenSource ForMetadataServer(TimeSpan fetchTimeout)
    {
        var initializer = new ComputeCredential.Initializer();
        initializer.HttpClientFactory = new TimeLimitedHttpClientFactory(fetchTimeout);
        initializer.DefaultExponentialBackOffPolicy = ExponentialBackOffPolicy.None;
        var credential = new ComputeCredential(initializer);
        return new GoogleIdTokenSource(_ => Task.FromResult<IOidcTokenProvider>(credential));
    }

    /// <summary>Application Default Credentials, discovered on first use (and again after a failed discovery).</summary>
    public static GoogleIdTokenSource ForApplicationDefaultCredentials(TimeSpan fetchTimeout) =>
        new(async cancellationToken =>
        {
            try
            {
                var credential = await GoogleCredential.GetApplicationDefaultAsync(cancellationToken);
                return credential.CreateWithHttpClientFactory(new TimeLimitedHttpClientFactory(fetchTimeout));
            }
            catch (InvalidOperationException ex)
            {
                throw new TokenFetchException(TokenFetchException.Credentials, "no usable Application Default Credentials: " + ex.Message, ex);
            }
        });

    public async Task<IdToken> FetchAsync(string audience, CancellationToken cancellationToken)
    {
        try
        {
            _provider ??= await createProvider(cancellationToken);
            var oidcToken = await _provider.GetOidcTokenAsync(OidcTokenOptions.FromTargetAudience(audience), cancellationToken);
            var jwt = await oidcToken.GetAccessTokenAsync(cancellationToken);
            return IdToken.Parse(jwt);
        }
        catch (TokenResponseException ex)
        {
            throw ex.StatusCode switch
            {
                HttpStatusCode.TooManyRequests => Failed(TokenFetchException.RateLimited, "the token endpoint answered 429 Too Many Requests", ex),
                >= HttpStatusCode.InternalServerError => Failed(TokenFetchException.ServerError, $"the token endpoint answered {(int)ex.StatusCode!} {ex.StatusCode}", ex),
                { } status => Failed(TokenFetchException.Rejected, $"the token endpoint refused the request with {(int)status} {status}", ex),
                null => Failed(TokenFetchException.InvalidResponse, "the token endpoint's answer could not be read", ex),
            };
        }
        catch (TimeoutException ex)
        {
            throw Failed(TokenFetchException.Timeout, ex.Message, ex);
        }
        catch (HttpRequestException ex)
        {
            throw Failed(TokenFetchException.Unreachable, "the token endpoint could not be reached: " + ex.Message, ex);
        }
        catch (FormatException ex)
        {
            throw Failed(TokenFetchException.InvalidResponse, ex.Message, ex);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw Failed(TokenFetchException.Timeout, "the token request timed out", ex);
        }
    }

    // The inner exception is dropped on purpose for responses: a library message could quote a response body.
    private static TokenFetchException Failed(string reason, string message, Exception ex) =>
        new(reason, message, ex is TokenResponseException ? null : ex);

    /// <summary>Builds the library's HTTP clients with a per-request time limit that fails with a
    /// <see cref="TimeoutException"/> rather than a cancellation, which the library would retry on its own.</summary>
    private sealed class TimeLimitedHttpClientFactory(TimeSpan timeout) : HttpClientFactory
    {
        protected override HttpMessageHandler CreateHandler(CreateHttpClientArgs args) =>
            new TimeLimitHandler(timeout) { InnerHandler = base.CreateHandler(args) };
    }

    private sealed class TimeLimitHandler(TimeSpan timeout) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            limit.CancelAfter(timeout);
            try
            {
                var response = await base.SendAsync(request, limit.Token);
                await response.Content.LoadIntoBufferAsync(limit.Token);
                return response;
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"the token endpoint did not answer within {timeout.TotalSeconds:0.###} s");
            }
        }
    }
}
