namespace TokenInjector.Emulators.Identity;

/// <summary>What <see cref="IdentityTokenIssuer"/> needs to mint: whose tokens, for how long, on which clock, and the GKE cache.</summary>
/// <param name="ServiceAccount">The account a token is for unless the caller names another (impersonation).</param>
/// <param name="Lifetime">exp - iat.</param>
/// <param name="GkeCache">Hand out the same token per audience until its last <paramref name="GkeCacheWindow"/>, as the GKE metadata server does.</param>
/// <param name="GkeCacheWindow">How long before exp the cache stops handing out a token.</param>
/// <param name="Time">Clock for iat, exp and the cache.</param>
internal sealed record IdentityTokenOptions(
    ServiceAccountIdentity ServiceAccount, TimeSpan Lifetime, bool GkeCache, TimeSpan GkeCacheWindow, TimeProvider Time);
