using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace TokenInjector.Emulators.Identity;

/// <summary>
/// Mints the RS256 ID tokens of the identity endpoint and, when asked, reproduces the GKE metadata server's cache:
/// per audience it keeps handing out the same token until the token's last <see cref="IdentityTokenOptions.GkeCacheWindow"/>.
/// That quirk is why a client refreshing "five minutes early" on GKE gets the same, soon-expiring token back.
/// The metadata server's identity endpoint and Google's token endpoints all mint through one issuer, so their tokens
/// verify against one JWKS (<see cref="SigningKeyRing.ToJwks"/>).
/// </summary>
internal sealed class IdentityTokenIssuer(IdentityTokenOptions options, SigningKeyRing keys, IIdentityTokenFaults faults)
{
    internal const string Issuer = "https://accounts.google.com";

    /// <summary>What <see cref="IIdentityTokenFaults.WrongAudience"/> appends to the audience asked.</summary>
    public const string WrongAudienceSuffix = "/wrong-audience";

    private readonly Lock _gate = new();
    private readonly Dictionary<(string Audience, bool WithEmail, string Account), CachedToken> _gkeCache = [];

    /// <summary>
    /// A token for <paramref name="audience"/>, taken exactly as the client sent it (unless <see cref="IIdentityTokenFaults.WrongAudience"/>).
    /// <paramref name="withEmail"/>: the full format's <c>email</c> and <c>email_verified</c> claims (the metadata
    /// server's <c>format=full</c>; Google's token endpoint and generateIdToken with <c>includeEmail</c>). The standard
    /// format carries neither, as Google documents it: only <c>aud</c>, <c>azp</c>, <c>exp</c>, <c>iat</c>, <c>iss</c>, <c>sub</c>.
    /// The token is the emulator's own service account's unless <paramref name="account"/> names another (impersonation).
    /// </summary>
    public string Issue(string audience, bool withEmail = true, ServiceAccountIdentity? account = null)
    {
        account ??= options.ServiceAccount;
        var now = options.Time.GetUtcNow();
        if (faults.WrongAudience)
        {
            return Mint(audience + WrongAudienceSuffix, withEmail, account, now).Jwt;
        }

        if (!options.GkeCache)
        {
            return Mint(audience, withEmail, account, now).Jwt;
        }

        lock (_gate)
        {
            var key = (audience, withEmail, account.Email);
            if (_gkeCache.TryGetValue(key, out var cached) && now < cached.ExpiresAt - options.GkeCacheWindow)
            {
                return cached.Jwt;
            }

            var fresh = Mint(audience, withEmail, account, now);
            _gkeCache[key] = fresh;
            return fresh.Jwt;
        }
    }

    private CachedToken Mint(string audience, bool withEmail, ServiceAccountIdentity account, DateTimeOffset now)
    {
        var issuedAt = now.ToUnixTimeSeconds();
        var expiresAt = issuedAt + (long)options.Lifetime.TotalSeconds;
        var key = keys.Current;

        var header = new JwtHeader("RS256", key.KeyId, "JWT");
        var claims = new IdTokenClaims(
            Audience: audience,
            AuthorizedParty: account.Id,
            Email: withEmail ? account.Email : null,
            EmailVerified: withEmail ? true : null,
            ExpiresAt: expiresAt,
            IssuedAt: issuedAt,
            Issuer: Issuer,
            Subject: account.Id);

        var signingInput = Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(header, IdentityJsonContext.Default.JwtHeader))
            + "." + Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(claims, IdentityJsonContext.Default.IdTokenClaims));
        var signature = key.Rsa.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return new CachedToken(signingInput + "." + Base64Url.EncodeToString(signature), DateTimeOffset.FromUnixTimeSeconds(expiresAt));
    }

    private sealed record CachedToken(string Jwt, DateTimeOffset ExpiresAt);
}
