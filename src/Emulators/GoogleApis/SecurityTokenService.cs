using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using TokenInjector.Emulators.Identity;
using TokenInjector.Emulators.Plumbing;

namespace TokenInjector.Emulators.GoogleApis;

/// <summary>
/// Google's Security Token Service (<c>POST https://sts.googleapis.com/v1/token</c>, RFC 8693 token exchange) for one
/// workload identity pool with one OIDC provider, the half of <c>external_account</c> credentials (Workload Identity
/// Federation, fleet workload identity) that runs before IAM's <c>generateIdToken</c>. The provider trusts the JWTs of
/// one issuer, the emulator's stand-in for a cluster's service-account token issuer (<see cref="MintSubjectToken"/>):
/// signed by its own key, with the provider's default allowed audience (its resource name, with or without the
/// <c>https:</c> prefix), not expired. A trusted exchange answers a federated access token that
/// <see cref="GoogleTokenEndpoint"/>'s <c>generateIdToken</c> accepts as the pool's principal
/// (<c>principal://…/subject/SUB</c>); by default every identity of the pool may act as the service account (a
/// <c>principalSet://…/*</c> binding), and <see cref="Deny"/> takes one out, for IAM's 403. Each exchange is recorded
/// (never its subject token) for tests. Errors are answered as Google's STS answers them: 400 with an OAuth2
/// <c>error</c>/<c>error_description</c> body. What of this is verified from Google's docs and what assumed:
/// docs/ARCHITECTURE.md, "The emulators".
/// </summary>
internal sealed class SecurityTokenService(TimeProvider time)
{
    internal const string TokenPath = "/v1/token";

    /// <summary>The pool provider's resource name: the <c>audience</c> of a credential file and of the exchange.</summary>
    public const string ProviderAudience = "//iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/emulator-pool/providers/emulator-oidc";

    /// <summary>The issuer of the subject tokens the provider trusts (a Kubernetes cluster's service-account token issuer).</summary>
    public const string SubjectIssuer = "https://kubernetes.default.svc.cluster.local";

    /// <summary>An OIDC provider's default allowed audience, which a subject token must carry (or the resource name alone).</summary>
    public const string AllowedAudience = "https:" + ProviderAudience;

    internal const string TokenExchangeGrant = "urn:ietf:params:oauth:grant-type:token-exchange";
    internal const string AccessTokenType = "urn:ietf:params:oauth:token-type:access_token";
    private const string JwtTokenType = "urn:ietf:params:oauth:token-type:jwt";
    private const string IdTokenType = "urn:ietf:params:oauth:token-type:id_token";
    private static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan FederatedTokenLifetime = TimeSpan.FromSeconds(3599);

    // Lives as long as the emulator, like the keys of GoogleTokenEndpoint.
    private readonly RSA _issuerKey = RSA.Create(2048);
    private readonly string _issuerKeyId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
    private readonly ConcurrentDictionary<string, FederatedToken> _federatedTokens = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _denied = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<StsExchange> _exchanges = new();

    /// <summary>Every exchange asked for, in order, with its outcome (the subject token itself is never kept).</summary>
    public IReadOnlyList<StsExchange> Exchanges => [.. _exchanges];

    /// <summary>A subject token of the trusted issuer for <paramref name="subject"/> (a Kubernetes service account's is <c>system:serviceaccount:NS:NAME</c>).</summary>
    public string MintSubjectToken(string subject, string audience = AllowedAudience)
    {
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        var header = new JwtHeader("RS256", _issuerKeyId, "JWT");
        var claims = new SubjectTokenClaims(audience, now + 3600, now, SubjectIssuer, subject);
        var signingInput = Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(header, IdentityJsonContext.Default.JwtHeader))
            + "." + Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(claims, StsJsonContext.Default.SubjectTokenClaims));
        var signature = _issuerKey.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return signingInput + "." + Base64Url.EncodeToString(signature);
    }

    /// <summary>Takes the pool's <paramref name="subject"/> out of the IAM binding: its federated tokens get 403 from <c>generateIdToken</c>.</summary>
    public void Deny(string subject) => _denied[subject] = true;

    /// <summary>The principal a current federated access token stands for, or null when it is none.</summary>
    public FederatedToken? Authenticate(string accessToken) =>
        _federatedTokens.TryGetValue(accessToken, out var token) && token.ExpiresAt > time.GetUtcNow() ? token : null;

    /// <summary>Whether the pool's <paramref name="subject"/> may act as the emulator's service account.</summary>
    public bool MayImpersonate(string subject) => !_denied.ContainsKey(subject);

    public async Task HandleAsync(HttpContext context)
    {
        if (!context.Request.HasFormContentType)
        {
            await GoogleTokenEndpoint.OAuthErrorAsync(context, "invalid_request", "Request must be application/x-www-form-urlencoded.");
            return;
        }

        var form = await context.Request.ReadFormAsync(context.RequestAborted);
        var exchange = new StsExchange(
            form["grant_type"].ToString(), form["audience"].ToString(), form["scope"].ToString(),
            form["requested_token_type"].ToString(), form["subject_token_type"].ToString(), Subject: null, Error: null);
        var (error, description, subject) = Check(exchange, form["subject_token"].ToString());
        _exchanges.Enqueue(exchange with { Subject = subject, Error = error });
        if (error is not null)
        {
            await GoogleTokenEndpoint.OAuthErrorAsync(context, error, description!);
            return;
        }

        var accessToken = "ya29.d." + Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(48));
        _federatedTokens[accessToken] = new FederatedToken(subject!, time.GetUtcNow() + FederatedTokenLifetime);
        await HttpAnswers.WriteJsonAsync(
            context,
            new StsTokenAnswer(accessToken, AccessTokenType, "Bearer", (long)FederatedTokenLifetime.TotalSeconds),
            StsJsonContext.Default.StsTokenAnswer);
    }

    // The checks in the order Google's STS reports them: the request's shape, then the provider, then the token.
    private (string? Error, string? Description, string? Subject) Check(StsExchange exchange, string subjectToken)
    {
        if (exchange.GrantType != TokenExchangeGrant)
        {
            return ("unsupported_grant_type", $"Invalid value for \"grant_type\": expected {TokenExchangeGrant}.", null);
        }

        if (exchange.RequestedTokenType != AccessTokenType)
        {
            return ("invalid_request", $"Invalid value for \"requested_token_type\": expected {AccessTokenType}.", null);
        }

        if (exchange.SubjectTokenType is not (JwtTokenType or IdTokenType))
        {
            return ("invalid_request", "Invalid value for \"subject_token_type\": an OIDC provider takes urn:ietf:params:oauth:token-type:jwt or urn:ietf:params:oauth:token-type:id_token.", null);
        }

        if (exchange.Audience != ProviderAudience)
        {
            return ("invalid_target", "The target service indicated by the \"audience\" parameters is invalid. This might either be because the pool or provider is disabled or deleted or because it doesn't exist.", null);
        }

        if (subjectToken.Length == 0)
        {
            return ("invalid_request", "Missing required parameter: \"subject_token\".", null);
        }

        var claims = VerifiedClaims(subjectToken);
        if (claims is null)
        {
            return ("invalid_grant", "Invalid ID Token.", null);
        }

        if (claims.Issuer != SubjectIssuer)
        {
            return ("invalid_grant", $"The issuer in ID Token {claims.Issuer} does not match the expected ones: {SubjectIssuer}.", null);
        }

        // An OIDC provider without allowed audiences takes its own resource name, with or without the https: prefix.
        if (claims.Audience is not (AllowedAudience or ProviderAudience))
        {
            return ("invalid_grant", $"The audience in ID Token [{claims.Audience}] does not match the expected audience {AllowedAudience}.", null);
        }

        var now = time.GetUtcNow();
        if (DateTimeOffset.FromUnixTimeSeconds(claims.ExpiresAt) < now - ClockSkew || DateTimeOffset.FromUnixTimeSeconds(claims.IssuedAt) > now + ClockSkew)
        {
            return ("invalid_grant", "ID Token has expired or is not yet valid.", null);
        }

        return string.IsNullOrEmpty(claims.Subject) ? ("invalid_grant", "The ID Token has no sub claim.", null) : (null, null, claims.Subject);
    }

    // The claims of a JWT signed by the trusted issuer's key, or null.
    private SubjectTokenClaims? VerifiedClaims(string jwt)
    {
        var parts = jwt.Split('.');
        if (parts.Length != 3)
        {
            return null;
        }

        try
        {
            var header = JsonSerializer.Deserialize(Base64Url.DecodeFromChars(parts[0]), IdentityJsonContext.Default.JwtHeader);
            var signature = Base64Url.DecodeFromChars(parts[2]);
            if (header is not { Algorithm: "RS256" } || header.KeyId != _issuerKeyId
                || !_issuerKey.VerifyData(Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1))
            {
                return null;
            }

            return JsonSerializer.Deserialize(Base64Url.DecodeFromChars(parts[1]), StsJsonContext.Default.SubjectTokenClaims);
        }
        catch (Exception ex) when (ex is FormatException or JsonException)
        {
            return null;
        }
    }
}

/// <summary>A federated access token of the pool: whose it is and until when.</summary>
internal sealed record FederatedToken(string Subject, DateTimeOffset ExpiresAt);

/// <summary>One exchange asked of the STS, as recorded for tests: the form's fields but the subject token, the verified subject, the error answered (null: a token).</summary>
internal sealed record StsExchange(
    string GrantType, string Audience, string Scope, string RequestedTokenType, string SubjectTokenType, string? Subject, string? Error);
