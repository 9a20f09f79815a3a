using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using TokenInjector.Emulators.Identity;
using TokenInjector.Emulators.Plumbing;

namespace TokenInjector.Emulators.GoogleApis;

/// <summary>
/// Google's OAuth2 token endpoint and IAM Credentials' <c>generateIdToken</c>, for the flows Application Default
/// Credentials take off GKE (EMULATORS.md item 10). They are served beside the metadata server and mint through its
/// <see cref="IdentityTokenIssuer"/>, so that their ID tokens are signed by the same keys and verify against the same JWKS; credential files name these endpoints
/// (<c>token_uri</c>, <c>service_account_impersonation_url</c>), so a client is pointed here by the file alone.
/// <list type="bullet">
/// <item><c>POST /token</c>, the JWT-bearer grant of a service-account key made by <see cref="CreateServiceAccountKey"/>:
/// the assertion's signature is checked against the key's public half; with <c>target_audience</c> the answer is
/// <c>{"id_token": ...}</c>, with <c>scope</c> an access token.</item>
/// <item><c>POST /v1/projects/-/serviceAccounts/EMAIL:generateIdToken</c> with an access token from <c>/token</c> or from
/// the metadata server (<see cref="IssueAccessToken"/>), or a federated access token of <see cref="Sts"/> as the pool's
/// principal: <c>{"token": ...}</c> for the emulator's account or one of
/// <see cref="GoogleApisOptions.OtherServiceAccounts"/>, through the delegates the body names (each one of those
/// accounts too), with <c>email</c> when the body asks <c>includeEmail</c>. Each call is kept (<see cref="GenerateIdTokenCalls"/>).</item>
/// <item><c>POST /v1/token</c>: the Security Token Service (<see cref="SecurityTokenService"/>).</item>
/// </list>
/// </summary>
internal sealed class GoogleTokenEndpoint(GoogleApisOptions options, IdentityTokenIssuer issuer, IdentityRequestCounter counter)
{
    internal const string TokenPath = "/token";

    // How IAM names a service account as a resource: in the URL after /v1/, and each of a body's delegates.
    private const string ResourcePrefix = "projects/-/serviceAccounts/";
    internal const string IamPathPrefix = "/v1/" + ResourcePrefix;

    // Google's token endpoint wants this aud in assertions, whatever token_uri the file names; the emulator's own
    // URL is accepted too.
    private const string GoogleTokenAudience = "https://oauth2.googleapis.com/token";
    private const string JwtBearerGrant = "urn:ietf:params:oauth:grant-type:jwt-bearer";
    private static readonly TimeSpan MaxAssertionLifetime = TimeSpan.FromHours(1);
    private static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(5);

    private readonly ConcurrentDictionary<string, RSA> _publicKeys = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, IssuedAccessToken> _accessTokens = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<GenerateIdTokenCall> _generateIdTokenCalls = new();

    /// <summary>The Security Token Service of <c>external_account</c> credentials, whose federated tokens generateIdToken accepts.</summary>
    public SecurityTokenService Sts { get; } = new(options.Time);

    /// <summary>Every well-formed <c>generateIdToken</c> call that was let through, in order.</summary>
    public IReadOnlyList<GenerateIdTokenCall> GenerateIdTokenCalls => [.. _generateIdTokenCalls];

    /// <summary>A new access token of <paramref name="principal"/> (an account's email, a federated principal) that IAM then accepts.</summary>
    public AccessTokenResponse IssueAccessToken(string principal)
    {
        var accessToken = "ya29." + Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(48));
        _accessTokens[accessToken] = new IssuedAccessToken(principal, options.Time.GetUtcNow() + TimeSpan.FromSeconds(3599));
        return new AccessTokenResponse(accessToken, 3599, "Bearer");
    }

    public static bool Serves(string path) =>
        path == TokenPath || path == SecurityTokenService.TokenPath || path.StartsWith(IamPathPrefix, StringComparison.Ordinal);

    /// <summary>
    /// A new key of the emulator's service account, as the JSON key file Google hands out, whose <c>token_uri</c> is
    /// this emulator's <c>/token</c> at <paramref name="baseAddress"/>. Only the public half is kept here.
    /// </summary>
    public string CreateServiceAccountKey(Uri baseAddress)
    {
        using var rsa = RSA.Create(2048);
        var keyId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20));
        var publicKey = RSA.Create();
        publicKey.ImportParameters(rsa.ExportParameters(includePrivateParameters: false));
        _publicKeys[keyId] = publicKey;

        var email = options.ServiceAccount.Email;
        var file = new ServiceAccountKeyFile(
            Type: "service_account",
            ProjectId: email[(email.IndexOf('@', StringComparison.Ordinal) + 1)..].Split('.')[0],
            PrivateKeyId: keyId,
            PrivateKey: rsa.ExportPkcs8PrivateKeyPem() + "\n",
            ClientEmail: email,
            ClientId: options.ServiceAccount.Id,
            AuthUri: "https://accounts.google.com/o/oauth2/auth",
            TokenUri: new Uri(baseAddress, TokenPath.TrimStart('/')).AbsoluteUri,
            UniverseDomain: "googleapis.com");
        return JsonSerializer.Serialize(file, GoogleTokenJsonContext.Default.ServiceAccountKeyFile);
    }

    public Task HandleAsync(HttpContext context)
    {
        var path = context.Request.Path.Value!;
        if (!HttpMethods.IsPost(context.Request.Method))
        {
            return HttpAnswers.WriteAsync(context, StatusCodes.Status405MethodNotAllowed, "text/plain", "method not allowed\n");
        }

        return path == TokenPath ? HandleTokenAsync(context)
            : path == SecurityTokenService.TokenPath ? Sts.HandleAsync(context)
            : HandleIamAsync(context, path[IamPathPrefix.Length..]);
    }

    private async Task HandleTokenAsync(HttpContext context)
    {
        if (!context.Request.HasFormContentType)
        {
            await OAuthErrorAsync(context, "invalid_request", "Expected an application/x-www-form-urlencoded body.");
            return;
        }

        var form = await context.Request.ReadFormAsync(context.RequestAborted);
        if (form["grant_type"] != JwtBearerGrant)
        {
            await OAuthErrorAsync(context, "unsupported_grant_type", $"Invalid grant_type: {form["grant_type"]}");
            return;
        }

        var ownTokenUrl = $"{context.Request.Scheme}://{context.Request.Host}{TokenPath}";
        if (CheckAssertion(form["assertion"].ToString(), ownTokenUrl, out var problem) is not { } claims)
        {
            await OAuthErrorAsync(context, "invalid_grant", problem!);
            return;
        }

        if (claims.TryGetProperty("target_audience", out var target) && target.GetString() is { Length: > 0 } audience)
        {
            counter.Record(audience);
            await HttpAnswers.WriteJsonAsync(context, new IdTokenAnswer(issuer.Issue(audience)), GoogleTokenJsonContext.Default.IdTokenAnswer);
            return;
        }

        if (claims.TryGetProperty("scope", out var scope) && scope.GetString() is { Length: > 0 })
        {
            await HttpAnswers.WriteJsonAsync(context, IssueAccessToken(options.ServiceAccount.Email), GoogleTokenJsonContext.Default.AccessTokenResponse);
            return;
        }

        await OAuthErrorAsync(context, "invalid_scope", "Invalid OAuth scope or ID token audience provided.");
    }

    // The claims of a well-signed, current assertion of a known key; null with the reason otherwise.
    private JsonElement? CheckAssertion(string assertion, string ownTokenUrl, out string? problem)
    {
        problem = "Invalid JWT Signature.";
        var parts = assertion.Split('.');
        if (parts.Length != 3)
        {
            return null;
        }

        JsonElement header;
        JsonElement claims;
        byte[] signature;
        try
        {
            header = ParseSegment(parts[0]);
            claims = ParseSegment(parts[1]);
            signature = Base64Url.DecodeFromChars(parts[2]);
        }
        catch (Exception ex) when (ex is FormatException or JsonException)
        {
            return null;
        }

        if (header.ValueKind != JsonValueKind.Object || claims.ValueKind != JsonValueKind.Object
            || !header.TryGetProperty("kid", out var kid) || kid.ValueKind != JsonValueKind.String
            || !_publicKeys.TryGetValue(kid.GetString()!, out var key)
            || !header.TryGetProperty("alg", out var alg) || alg.GetString() != "RS256"
            || !key.VerifyData(Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1))
        {
            return null;
        }

        if (!claims.TryGetProperty("iss", out var iss) || iss.GetString() != options.ServiceAccount.Email)
        {
            problem = "Invalid JWT: the issuer is not the key's service account.";
            return null;
        }

        if (!claims.TryGetProperty("aud", out var aud) || aud.ValueKind != JsonValueKind.String
            || (aud.GetString() != GoogleTokenAudience && aud.GetString() != ownTokenUrl))
        {
            problem = $"Invalid JWT: the audience must be {GoogleTokenAudience}.";
            return null;
        }

        var now = options.Time.GetUtcNow();
        if (!claims.TryGetProperty("iat", out var iat) || !iat.TryGetInt64(out var issuedAt)
            || !claims.TryGetProperty("exp", out var exp) || !exp.TryGetInt64(out var expiresAt)
            || expiresAt - issuedAt > MaxAssertionLifetime.TotalSeconds
            || DateTimeOffset.FromUnixTimeSeconds(issuedAt) > now + ClockSkew
            || DateTimeOffset.FromUnixTimeSeconds(expiresAt) < now - ClockSkew)
        {
            problem = "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.";
            return null;
        }

        problem = null;
        return claims;
    }

    private static JsonElement ParseSegment(string segment)
    {
        using var document = JsonDocument.Parse(Base64Url.DecodeFromChars(segment));
        return document.RootElement.Clone();
    }

    // rest = "{principal}:generateIdToken"
    private async Task HandleIamAsync(HttpContext context, string rest)
    {
        const string Method = ":generateIdToken";
        if (!rest.EndsWith(Method, StringComparison.Ordinal))
        {
            await IamErrorAsync(context, StatusCodes.Status404NotFound, "NOT_FOUND", "Only generateIdToken is emulated.");
            return;
        }

        var authorization = context.Request.Headers.Authorization.ToString();
        var bearer = authorization.StartsWith("Bearer ", StringComparison.Ordinal) ? authorization["Bearer ".Length..] : null;
        var federated = bearer is null ? null : Sts.Authenticate(bearer);
        var caller = federated?.Subject
            ?? (bearer is not null && _accessTokens.TryGetValue(bearer, out var issued) && issued.ExpiresAt > options.Time.GetUtcNow() ? issued.Principal : null);
        if (caller is null)
        {
            await IamErrorAsync(context, StatusCodes.Status401Unauthorized, "UNAUTHENTICATED", "Request had invalid authentication credentials. Expected OAuth 2 access token.");
            return;
        }

        var principal = rest[..^Method.Length];
        if (Account(principal) is not { } account)
        {
            await IamErrorAsync(context, StatusCodes.Status404NotFound, "NOT_FOUND", $"Service account {principal} not found.");
            return;
        }

        if (federated is not null && !Sts.MayImpersonate(federated.Subject))
        {
            // IAM's words when the caller lacks roles/iam.workloadIdentityUser (or the account does not exist).
            await IamErrorAsync(context, StatusCodes.Status403Forbidden, "PERMISSION_DENIED", "Permission 'iam.serviceAccounts.getOpenIdToken' denied on resource (or it may not exist).");
            return;
        }

        GenerateIdTokenBody? body;
        try
        {
            body = await JsonSerializer.DeserializeAsync(context.Request.Body, GoogleTokenJsonContext.Default.GenerateIdTokenBody, context.RequestAborted);
        }
        catch (JsonException)
        {
            body = null;
        }

        if (body?.Audience is not { Length: > 0 } audience)
        {
            await IamErrorAsync(context, StatusCodes.Status400BadRequest, "INVALID_ARGUMENT", "audience is required.");
            return;
        }

        var delegates = new List<string>();
        foreach (var @delegate in body.Delegates ?? [])
        {
            if (!@delegate.StartsWith(ResourcePrefix, StringComparison.Ordinal))
            {
                await IamErrorAsync(context, StatusCodes.Status400BadRequest, "INVALID_ARGUMENT", $"Invalid form of delegate {@delegate}: expected {ResourcePrefix}{{ACCOUNT_EMAIL_OR_UNIQUEID}}.");
                return;
            }

            if (Account(@delegate[ResourcePrefix.Length..]) is not { } delegateAccount)
            {
                await IamErrorAsync(context, StatusCodes.Status404NotFound, "NOT_FOUND", $"Service account {@delegate[ResourcePrefix.Length..]} not found.");
                return;
            }

            delegates.Add(delegateAccount.Email);
        }

        counter.Record(audience);
        _generateIdTokenCalls.Enqueue(new GenerateIdTokenCall(caller, account.Email, delegates, audience, body.IncludeEmail));
        await HttpAnswers.WriteJsonAsync(
            context, new GenerateIdTokenAnswer(issuer.Issue(audience, body.IncludeEmail, account)), GoogleTokenJsonContext.Default.GenerateIdTokenAnswer);
    }

    // The emulator's own account (by email or unique id) or one of the others (by email), else null: not found.
    private ServiceAccountIdentity? Account(string name) =>
        name == options.ServiceAccount.Email || name == options.ServiceAccount.Id
            ? options.ServiceAccount
            : options.OtherServiceAccounts.Contains(name, StringComparer.Ordinal) ? ServiceAccountIdentity.Other(name) : null;

    /// <summary>An OAuth2 error answer (RFC 6749 section 5.2) as Google's token endpoints give it: 400, JSON.</summary>
    internal static Task OAuthErrorAsync(HttpContext context, string error, string description)
    {
        context.Response.StatusCode = StatusCodes.Status400BadRequest;
        context.Response.ContentType = "application/json; charset=utf-8";
        return JsonSerializer.SerializeAsync(context.Response.Body, new OAuthError(error, description), GoogleTokenJsonContext.Default.OAuthError, context.RequestAborted);
    }

    private static Task IamErrorAsync(HttpContext context, int status, string code, string message)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=utf-8";
        return JsonSerializer.SerializeAsync(context.Response.Body, new IamError(new IamErrorDetail(status, message, code)), GoogleTokenJsonContext.Default.IamError, context.RequestAborted);
    }
}

/// <summary>An access token the emulator handed out: whose it is, and until when.</summary>
internal sealed record IssuedAccessToken(string Principal, DateTimeOffset ExpiresAt);

/// <summary>
/// One <c>generateIdToken</c> call IAM let through: who called (<paramref name="Caller"/>: an account's email or a
/// federated principal), the account acted as, the delegates in order (emails), the audience, and <c>includeEmail</c>.
/// </summary>
internal sealed record GenerateIdTokenCall(string Caller, string ServiceAccount, IReadOnlyList<string> Delegates, string Audience, bool IncludeEmail);
