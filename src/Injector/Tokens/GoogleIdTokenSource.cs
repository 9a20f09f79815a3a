using System.Net;
using Google.Apis.Auth.OAuth2;
using Google.Apis.Auth.OAuth2.Responses;
using Google.Apis.Http;
using TokenInjector.Configuration;
using JwtFetch = System.Func<TokenInjector.Tokens.TokenKey, System.Threading.CancellationToken, System.Threading.Tasks.Task<string>>;

namespace TokenInjector.Tokens;

/// <summary>
/// Fetches ID tokens from Google: the GKE metadata server through Google.Apis.Auth's <see cref="ComputeCredential"/>
/// (the library honours <c>GCE_METADATA_HOST</c>), a service-account key through the library, or an impersonated
/// service account through <see cref="ImpersonatedIdTokenClient"/> (for an external account, authorised by the
/// library's federated token, <see cref="FederatedExchange"/>); and for the audiences <c>--impersonate</c> names,
/// another service account's tokens through IAM, authorised by whichever of those is the sidecar's own identity. The
/// library's own retries are switched off and
/// every request gets a time limit, so that retry timing is decided in one place (<see cref="AudienceEntry"/>) and a
/// hung endpoint costs one bounded request. The metadata server's Workload Identity refusals
/// (<see cref="WorkloadIdentityRefusal"/>) are told apart from passing faults, which the library cannot do: it drops
/// the body of an error answer.
/// </summary>
internal sealed class GoogleIdTokenSource(JwtFetch fetchJwt) : IIdTokenSource
{
    private const string CloudPlatformScope = "https://www.googleapis.com/auth/cloud-platform";

    /// <summary>
    /// The sidecar's token source: its own identity (the metadata server, or the credentials file read at start), and,
    /// for the audiences <paramref name="impersonations"/> name, IAM's <c>generateIdToken</c> authorised by that
    /// identity's access token.
    /// </summary>
    public static GoogleIdTokenSource Create(
        TokenSourceKind kind,
        AdcCredentials? credentials,
        IReadOnlyList<ImpersonationSpec> impersonations,
        Uri iamCredentialsUrl,
        TimeSpan fetchTimeout,
        WorkloadIdentityRefusals refusals)
    {
        // One connection pool to IAM for every client that calls it.
        var iam = new HttpClient(new TimeLimitHandler(fetchTimeout) { InnerHandler = new SocketsHttpHandler() });
        var own = kind == TokenSourceKind.Adc && credentials is not null
            ? FromCredentialsFile(credentials, fetchTimeout, iam)
            : FromMetadataServer(fetchTimeout, refusals);
        var ownFetch = own.Classified(own.FetchJwt);
        if (impersonations.Count == 0)
        {
            return new(ownFetch);
        }

        // One client per entry; an audience no entry names is fetched as the entry without one, else as the sidecar.
        var fetchers = impersonations.ToDictionary(
            entry => entry.Audience ?? string.Empty,
            entry => own.Classified(new ImpersonatedIdTokenClient(
                own.AccessTokens,
                ImpersonatedIdTokenClient.GenerateIdTokenUrl(iamCredentialsUrl, entry.ServiceAccount),
                entry.ServiceAccount,
                [.. own.ChainPrefix, .. entry.Delegates],
                iam).FetchJwtAsync),
            StringComparer.Ordinal);
        var fallback = fetchers.GetValueOrDefault(string.Empty) ?? ownFetch;
        return new((key, cancellationToken) => fetchers.GetValueOrDefault(key.Audience, fallback)(key, cancellationToken));
    }

    /// <summary>
    /// The GKE metadata server at <c>GCE_METADATA_HOST</c> (else 169.254.169.254). The address must come from that
    /// variable: the library reads the identity endpoint's raw-JWT answer only when the request went to the URL it
    /// derives from it. A token fetched clears the refusal <paramref name="refusals"/> reported.
    /// </summary>
    private static OwnIdentity FromMetadataServer(TimeSpan fetchTimeout, WorkloadIdentityRefusals refusals)
    {
        var initializer = new ComputeCredential.Initializer();
        initializer.HttpClientFactory = new TimeLimitedHttpClientFactory(fetchTimeout, refusals);
        initializer.DefaultExponentialBackOffPolicy = ExponentialBackOffPolicy.None;
        var credential = new ComputeCredential(initializer);

        // ComputeCredential appends the audience to "?audience=" as it is, and the metadata server decodes its query
        // (Go's net/url: '&' separates, '+' is a space, '#' ends the URL), so the library is handed the audience
        // percent-encoded: the server then reads back exactly the string asked for. The library adds the form
        // (&format=full, &licenses=true) after it.
        return new(
            async (key, cancellationToken) =>
            {
                var jwt = await JwtAsync(credential, Uri.EscapeDataString(key.Audience), key.Format, cancellationToken);
                refusals.Clear();
                return jwt;
            },
            credential,
            []);
    }

    /// <summary>Application Default Credentials from the file read at start; <paramref name="iam"/> calls IAM.</summary>
    private static OwnIdentity FromCredentialsFile(AdcCredentials credentials, TimeSpan fetchTimeout, HttpClient iam)
    {
        if (credentials.Credential is { } key)
        {
            // The audience travels as the assertion's target_audience claim (JSON): no encoding to add. Google's token
            // endpoint has one form of ID token for a key (with the email claim), whatever the format asked.
            var credential = key.CreateWithHttpClientFactory(new TimeLimitedHttpClientFactory(fetchTimeout));
            return new(
                (tokenKey, cancellationToken) => JwtAsync(credential, tokenKey.Audience, tokenKey.Format, cancellationToken),
                credential.CreateScoped(CloudPlatformScope),
                []);
        }

        // An impersonated account or an external account: the file's source calls IAM for the file's account, and
        // for another account through it (the file's chain, then the file's account, then the entry's delegates).
        var source = credentials.ImpersonationSource!.CreateWithHttpClientFactory(new TimeLimitedHttpClientFactory(fetchTimeout));
        var account = credentials.ImpersonatedAccount!;
        var client = new ImpersonatedIdTokenClient(source, credentials.GenerateIdTokenUrl!, account, credentials.Delegates, iam);
        Func<JwtFetch, JwtFetch>? classify = credentials.Kind == JsonCredentialParameters.ExternalAccountCredentialType ? FederatedExchange.Classified : null;
        return new(client.FetchJwtAsync, source, [.. credentials.Delegates, account], classify);
    }

    public async Task<IdToken> FetchAsync(TokenKey key, CancellationToken cancellationToken)
    {
        try
        {
            return IdToken.Parse(await fetchJwt(key, cancellationToken));
        }
        catch (TokenResponseException ex)
        {
            throw ex.StatusCode is { } status
                ? ForStatus(status, ex)
                : Failed(TokenFetchException.InvalidResponse, "the token endpoint's answer could not be read", ex);
        }
        catch (HttpRequestException ex) when (ex.StatusCode is { } status)
        {
            throw ForStatus(status, ex);
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

    private static async Task<string> JwtAsync(IOidcTokenProvider provider, string targetAudience, TokenFormat format, CancellationToken cancellationToken)
    {
        var options = OidcTokenOptions.FromTargetAudience(targetAudience).WithTokenFormat(format switch
        {
            TokenFormat.Standard => OidcTokenFormat.Standard,
            TokenFormat.FullWithLicenses => OidcTokenFormat.FullWithLicences,
            _ => OidcTokenFormat.Full,
        });
        var oidcToken = await provider.GetOidcTokenAsync(options, cancellationToken);
        return await oidcToken.GetAccessTokenAsync(cancellationToken);
    }

    private static TokenFetchException ForStatus(HttpStatusCode status, Exception ex) => status switch
    {
        HttpStatusCode.TooManyRequests => Failed(TokenFetchException.RateLimited, "the token endpoint answered 429 Too Many Requests", ex),
        >= HttpStatusCode.InternalServerError => Failed(TokenFetchException.ServerError, $"the token endpoint answered {(int)status} {status}", ex),
        _ => Failed(TokenFetchException.Rejected, $"the token endpoint refused the request with {(int)status} {status}", ex),
    };

    // The inner exception is dropped on purpose for answers: a message could quote a response body.
    private static TokenFetchException Failed(string reason, string message, Exception ex) =>
        new(reason, message, ex is TokenResponseException || ex is HttpRequestException { StatusCode: not null } ? null : ex);

    /// <summary>
    /// The sidecar's own identity: how it fetches its ID tokens (before <see cref="Classified"/>), the access tokens that authorise its calls to IAM, the
    /// accounts IAM is asked to pass through before any an entry names (a credentials file's own chain), and how a
    /// fetch through that identity has its failures told, where they need it (an external account's STS).
    /// </summary>
    private sealed record OwnIdentity(JwtFetch FetchJwt, ITokenAccess AccessTokens, IReadOnlyList<string> ChainPrefix, Func<JwtFetch, JwtFetch>? Classify = null)
    {
        public JwtFetch Classified(JwtFetch fetch) => Classify?.Invoke(fetch) ?? fetch;
    }

    /// <summary>Builds the library's HTTP clients with a per-request time limit that fails with a
    /// <see cref="TimeoutException"/> rather than a cancellation, which the library would retry on its own, and without
    /// the back-off the library adds to credentials it builds from a file (a service-account key retries 503s itself).</summary>
    private sealed class TimeLimitedHttpClientFactory(TimeSpan timeout, WorkloadIdentityRefusals? refusals = null) : HttpClientFactory
    {
        protected override HttpMessageHandler CreateHandler(CreateHttpClientArgs args)
        {
            // The base class applies args.Initializers to the client only after it has asked for the handler.
            foreach (var backOff in args.Initializers.OfType<ExponentialBackOffInitializer>().ToList())
            {
                args.Initializers.Remove(backOff);
            }

            var limited = new TimeLimitHandler(timeout) { InnerHandler = base.CreateHandler(args) };
            return refusals is null ? limited : new RefusalHandler(refusals) { InnerHandler = limited };
        }
    }

    /// <summary>
    /// Reads an error answer's body (buffered by <see cref="TimeLimitHandler"/>) before the library drops it, and turns a
    /// Workload Identity refusal into its own failure reason. Its message is the sidecar's, never the body's.
    /// </summary>
    private sealed class RefusalHandler(WorkloadIdentityRefusals refusals) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            if (response.IsSuccessStatusCode
                || WorkloadIdentityRefusal.Classify(response.StatusCode, await response.Content.ReadAsStringAsync(cancellationToken)) is not { } refusal)
            {
                return response;
            }

            response.Dispose();
            refusals.Report(refusal);
            throw new TokenFetchException(refusal.Reason, refusal.Problem);
        }
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
